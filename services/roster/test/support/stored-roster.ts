import type { RosterEntityType } from '@isams-sync/events';
import type { StoredByType, StoredEntity } from '../../src/domain/diff';
import type { EntitiesByType } from '../../src/domain/roster-model';
import type { RosterReadStore } from '../../src/use-cases/ports';
import { toRecord } from '../../src/use-cases/records';

/** A tenant's stored roster as comparable rows (type, id, status, image, removal, purge, last change), sorted. */
export async function storedRoster(store: Pick<RosterReadStore, 'listEntityDocs'>, tenantId: string) {
  return (await store.listEntityDocs(tenantId))
    .map(toRecord)
    .map((e) => ({
      t: e.entityType,
      id: e.entityId,
      status: e.status,
      data: e.data,
      removal: e.removal?.reason ?? null,
      purged: e.purged,
      lastChangeId: e.lastChangeId,
    }))
    .sort((x, y) => `${x.t}/${x.id}`.localeCompare(`${y.t}/${y.id}`));
}

/** Stores a normalised snapshot as the active roster (what the first sync leaves behind), for the domain's diff. */
export function storedOf(entities: EntitiesByType): StoredByType {
  const out: StoredByType = {};
  for (const [type, m] of Object.entries(entities) as [
    RosterEntityType,
    EntitiesByType[RosterEntityType],
  ][]) {
    out[type] = new Map(
      [...m.values()].map((data): [string, StoredEntity] => [
        data.id,
        { entityType: type, id: data.id, status: 'active', data: structuredClone(data) },
      ]),
    );
  }
  return out;
}
