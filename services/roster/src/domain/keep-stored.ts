import type { RosterEntity } from './roster-model';

/**
 * A partially read entity completed from its stored image: each field in `fields` (it could not be
 * read in this run) takes the stored value, or is left out when the stored image has none or there
 * is no stored image (a new entity is added with what could be read). Pure; `incoming` is not changed.
 */
export function keepStoredFields(
  incoming: RosterEntity,
  fields: readonly string[],
  stored: RosterEntity | undefined,
): RosterEntity {
  const out: RosterEntity = { ...incoming };
  for (const f of fields) {
    if (f === 'id') continue;
    const value = stored?.[f];
    if (value === undefined) delete out[f];
    else out[f] = structuredClone(value);
  }
  return out;
}
