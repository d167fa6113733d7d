import type { ServiceClients } from './grpc-clients';
import { ROSTER_ENTITY_TYPES } from '@isams-sync/events';

export const ENTITY_TYPES = ROSTER_ENTITY_TYPES;

/** `type/id` → `status data` of every entity (active and removed), read from RosterService. */
export type RosterSnapshot = Map<string, string>;

export async function rosterSnapshot(clients: ServiceClients, tenantId: string): Promise<RosterSnapshot> {
  const out: RosterSnapshot = new Map();
  for (const entityType of ENTITY_TYPES) {
    let pageToken = '';
    do {
      const res = await clients.roster(tenantId, (c) => c.listEntities, {
        entityType,
        status: 'all',
        page: { pageSize: 500, pageToken },
      });
      for (const e of res.entities) out.set(`${entityType}/${e.entityId}`, `${e.status} ${e.dataJson}`);
      pageToken = res.page?.nextPageToken ?? '';
    } while (pageToken !== '');
  }
  return out;
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
