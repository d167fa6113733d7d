/**
 * Where the JSON Schemas of isams-sync's events are published, and how their versions are written.
 *
 * Every event carries `dataschema` = `${SCHEMA_BASE_URI}<type>/<schemaVersion>.json`, an absolute,
 * versioned URI (it is also the generated schema's `$id`). `schemaVersion` is semver: its major is
 * the `.v<N>` of the type (a breaking change is a new type, `.v<N+1>`), its minor counts additive
 * changes (a new optional field, a new enum value a consumer must tolerate). The files are the ones
 * in `libs/events/schemas/` and in the contracts package (`schemas/`), so the URI resolves offline
 * too: strip the base and look for `<type>.json`.
 */
export const SCHEMA_BASE_URI = 'https://schemas.schoolcloud.example/isams-sync/';

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

/** The version suffix N of `…v<N>` (0 when there is none). */
export function typeMajor(type: string): number {
  const m = /\.v([1-9]\d*)$/.exec(type);
  return m === null ? 0 : Number(m[1]);
}

/** `[major, minor, patch]` of a plain semver string, or undefined. */
export function parseSemver(version: string): [number, number, number] | undefined {
  const m = SEMVER.exec(version);
  return m === null ? undefined : [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** The `dataschema` URI of `type` at `schemaVersion`. */
export function dataSchemaUri(type: string, schemaVersion: string): string {
  return `${SCHEMA_BASE_URI}${type}/${schemaVersion}.json`;
}

/**
 * Version of the contracts package (`npm run pack:contracts` writes it into the packed
 * package.json). Tied to the schema versions: a removed schema or a schema major → major; a new
 * schema or a schema minor → minor; the compatibility check (`npm run check:contracts`) enforces it.
 */
export const CONTRACTS_VERSION = '1.1.0';

/** Version of the envelope schema (`schemas/cloudevent-envelope.json`). */
export const ENVELOPE_SCHEMA_VERSION = '1.0.0';
