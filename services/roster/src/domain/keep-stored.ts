import type { JsonValue, RosterEntity } from './roster-model';

/**
 * The `keepStored` entry of one item of a list field: `pupils[pupilId=101]` — the item whose
 * `keyField` is `key` keeps the stored image's item with that key (the copies of a repeated record
 * give it differently); without one it stays as read (what the copies agree on).
 */
export const itemField = (field: string, keyField: string, key: string): string =>
  `${field}[${keyField}=${key}]`;

const ITEM_FIELD = /^([^[]+)\[([^=\]]+)=(.*)\]$/;

type Item = { [key: string]: JsonValue };
const isItem = (v: JsonValue | undefined): v is Item =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A partially read entity completed from its stored image: each field in `fields` (it could not be
 * read in this run) takes the stored value, or is left out when the stored image has none or there
 * is no stored image (a new entity is added with what could be read). An item entry
 * ({@link itemField}) replaces that one item of the list with the stored image's item of the same
 * key, and leaves it as read when there is none; a whole field kept wins over its items. Pure;
 * `incoming` is not changed.
 */
export function keepStoredFields(
  incoming: RosterEntity,
  fields: readonly string[],
  stored: RosterEntity | undefined,
): RosterEntity {
  const out: RosterEntity = { ...incoming };
  const items: [string, string, string][] = [];
  for (const f of fields) {
    const item = ITEM_FIELD.exec(f);
    if (item !== null) {
      items.push([item[1]!, item[2]!, item[3]!]);
      continue;
    }
    if (f === 'id') continue;
    const value = stored?.[f];
    if (value === undefined) delete out[f];
    else out[f] = structuredClone(value);
  }
  for (const [field, keyField, key] of items) {
    if (fields.includes(field)) continue;
    const list = out[field];
    const was = stored?.[field];
    const keptItem = Array.isArray(was) ? was.find((i) => isItem(i) && i[keyField] === key) : undefined;
    if (!Array.isArray(list) || keptItem === undefined) continue;
    out[field] = list.map((i) => (isItem(i) && i[keyField] === key ? structuredClone(keptItem) : i));
  }
  return out;
}
