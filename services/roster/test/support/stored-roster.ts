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
