/**
 * Index twins for FerretDB 1.24 on PostgreSQL (installed by `installIndexTwins`, tools/local-infra/postgres.ts).
 *
 * FerretDB pushes a top-level scalar equality down as `(_jsonb -> 'field') @> '<value>'`, but the
 * indexes it creates for MongoDB indexes (the `_id` one included) are btree expression indexes on
 * `(_jsonb -> 'field')`, which cannot answer `@>` (FerretDB#4646): every query is a sequential scan.
 * This DDL event trigger gives every btree index FerretDB creates a GIN twin on the same key
 * expressions, which can — so the stand-in answers `_id` lookups and the services' declared index
 * keys by index, as MongoDB does. It changes nothing FerretDB sees: same tables, same uniqueness
 * (the btree still enforces it), same answers. Dropping FerretDB's index drops its twin.
 * Idempotent: run on every `infra:up`; the last statement twins indexes created before it.
 */
export const INDEX_TWINS_SQL = String.raw`
CREATE OR REPLACE FUNCTION isams_sync_twin_name(iname text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT left(iname, 46) || '_' || left(md5(iname), 8) || '_gin'
$$;

CREATE OR REPLACE FUNCTION isams_sync_gin_twin(idx oid) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  r record;
  exprs text := '';
  expr text;
  k int;
BEGIN
  SELECT i.indrelid, i.indnkeyatts, c.relname AS iname, n.nspname AS schema, t.relname AS tname, am.amname
    INTO r
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_class t ON t.oid = i.indrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    JOIN pg_am am ON am.oid = c.relam
   WHERE i.indexrelid = idx;
  IF NOT FOUND OR r.amname <> 'btree' OR r.iname LIKE '%\_gin'
     OR r.schema IN ('pg_catalog', 'information_schema', 'public') OR r.schema LIKE 'pg\_%' THEN
    RETURN;
  END IF;
  FOR k IN 1..r.indnkeyatts LOOP
    expr := pg_get_indexdef(idx, k, true);
    IF expr NOT LIKE '(_jsonb -> %' THEN RETURN; END IF;
    exprs := exprs || CASE WHEN k > 1 THEN ', ' ELSE '' END || expr;
  END LOOP;
  EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I.%I USING gin (%s)',
                 isams_sync_twin_name(r.iname), r.schema, r.tname, exprs);
END $$;

CREATE OR REPLACE FUNCTION isams_sync_gin_twin_created() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE obj record;
BEGIN
  FOR obj IN SELECT objid FROM pg_event_trigger_ddl_commands() WHERE object_type = 'index' LOOP
    PERFORM isams_sync_gin_twin(obj.objid);
  END LOOP;
END $$;

CREATE OR REPLACE FUNCTION isams_sync_gin_twin_dropped() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE obj record;
BEGIN
  FOR obj IN SELECT schema_name, object_name FROM pg_event_trigger_dropped_objects()
              WHERE object_type = 'index' AND object_name NOT LIKE '%\_gin' AND NOT is_temporary LOOP
    EXECUTE format('DROP INDEX IF EXISTS %I.%I', obj.schema_name, isams_sync_twin_name(obj.object_name));
  END LOOP;
END $$;

DROP EVENT TRIGGER IF EXISTS isams_sync_gin_twins_created;
CREATE EVENT TRIGGER isams_sync_gin_twins_created ON ddl_command_end
  WHEN TAG IN ('CREATE INDEX', 'CREATE TABLE') EXECUTE FUNCTION isams_sync_gin_twin_created();
DROP EVENT TRIGGER IF EXISTS isams_sync_gin_twins_dropped;
CREATE EVENT TRIGGER isams_sync_gin_twins_dropped ON sql_drop
  WHEN TAG IN ('DROP INDEX') EXECUTE FUNCTION isams_sync_gin_twin_dropped();

SELECT count(isams_sync_gin_twin(i.indexrelid)) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'public', 'pg_toast');
`;
