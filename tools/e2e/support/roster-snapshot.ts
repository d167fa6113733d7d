import type { RosterEntityView, ServiceClients } from './grpc-clients';
import { ROSTER_ENTITY_TYPES } from '@isams-sync/events';

export const ENTITY_TYPES = ROSTER_ENTITY_TYPES;

/** `type/id` → `status data` of every entity (active and removed), read from RosterService. */
export type RosterSnapshot = Map<string, string>;

export async function rosterSnapshot(clients: ServiceClients, tenantId: string): Promise<RosterSnapshot> {
  const out: RosterSnapshot = new Map();
  for await (const { entityType, entity: e } of rosterEntities(clients, tenantId, ENTITY_TYPES))
    out.set(`${entityType}/${e.entityId}`, `${e.status} ${e.dataJson}`);
  return out;
}

/** Every entity (active and removed) of `entityTypes`, type by type, paged from RosterService. */
export async function* rosterEntities(
  clients: ServiceClients,
  tenantId: string,
  entityTypes: readonly string[],
): AsyncGenerator<{ entityType: string; entity: RosterEntityView }> {
  for (const entityType of entityTypes) {
    let pageToken = '';
    do {
      const res = await clients.roster(tenantId, (c) => c.listEntities, {
        entityType,
        status: 'all',
        page: { pageSize: 500, pageToken },
      });
      for (const entity of res.entities) yield { entityType, entity };
      pageToken = res.page?.nextPageToken ?? '';
    } while (pageToken !== '');
  }
}

/** Active entities per type (what an admin sees counted). */
export function activeCounts(snapshot: RosterSnapshot): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const [key, value] of snapshot) {
    if (!value.startsWith('active ')) continue;
    const type = key.slice(0, key.indexOf('/'));
    counts[type] = (counts[type] ?? 0) + 1;
  }
  return counts;
}

/** The keys whose value differs between two snapshots (first 20), for readable failures. */
export function snapshotDiff(actual: RosterSnapshot, expected: RosterSnapshot): string[] {
  const keys = new Set([...actual.keys(), ...expected.keys()]);
  const diff: string[] = [];
  for (const k of keys) {
    if (actual.get(k) !== expected.get(k))
      diff.push(`${k}: ${String(actual.get(k)).slice(0, 120)} ≠ ${String(expected.get(k)).slice(0, 120)}`);
    if (diff.length >= 20) break;
  }
  return diff;
}
