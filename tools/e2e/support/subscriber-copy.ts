import { isDirectoryEntityType, projectDirectoryImage } from '@isams-sync/events';
import { createKafkaClient } from '@isams-sync/kafka';
import { createLogger } from '@isams-sync/logger';
import type { RunningSystem } from '@isams-sync/testing';
import { expect } from 'vitest';
import { startReferenceSubscriber, type ReferenceSubscriber } from '../../reference-subscriber/subscriber';
import type { ServiceClients } from './grpc-clients';
import { ENTITY_TYPES, rosterEntities, snapshotDiff } from './roster-snapshot';

/** JSON with object keys sorted: the same image compares equal whatever order its fields came in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
}

export type Projection = 'full' | 'directory';

/**
 * The reference subscriber beside a running system (its own Kafka client, every school), on the full
 * topics or on the directory projection's.
 */
export async function startSubscriber(
  system: RunningSystem,
  brokers: readonly string[],
  projection: Projection = 'full',
): Promise<ReferenceSubscriber> {
  const logger = createLogger({ service: 'reference-subscriber', level: 'warn' });
  // Generous retries: the suites restart the broker and the roster under it.
  const client = createKafkaClient({
    brokers: [...brokers],
    clientId: 'reference-subscriber',
    logger,
    retry: { retries: 50, initialRetryTimeMs: 300, maxRetryTimeMs: 5000 },
  });
  return startReferenceSubscriber({
    client,
    changesTopic: projection === 'full' ? system.topics.changes : system.topics.changesDirectory,
    stateTopic: projection === 'full' ? system.topics.state : system.topics.stateDirectory,
    projection,
    logger,
    purgeEveryMs: 500,
  });
}

/**
 * `type/id` → `status image` of what the roster holds for a school, purged people left out; for the
 * directory projection only its entity types, each image reduced to the projection.
 */
async function rosterCopy(
  clients: ServiceClients,
  tenantId: string,
  projection: Projection,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const types = ENTITY_TYPES.filter((t) => projection === 'full' || isDirectoryEntityType(t));
  for await (const { entityType, entity: e } of rosterEntities(clients, tenantId, types)) {
    if (e.purged) continue;
    const image = JSON.parse(e.dataJson) as Record<string, unknown>;
    const shown = projection === 'full' ? image : projectDirectoryImage(entityType, image);
    out.set(`${entityType}/${e.entityId}`, `${e.status} ${canonical(shown)}`);
  }
  return out;
}

function subscriberCopy(sub: ReferenceSubscriber, tenantId: string): Map<string, string> {
  return new Map(
    sub.copy.list(tenantId).map((e) => [`${e.entityType}/${e.entityId}`, `${e.status} ${canonical(e.data)}`]),
  );
}

/**
 * The subscriber's copy of the school equals the roster's (RosterService `ListEntities`, every
 * status, purged people excluded — the subscriber forgets them): checked once the subscriber has
 * handled every change written so far, retried while the roster's grace sweep catches up.
 */
export async function expectCopyEqualsRoster(
  clients: ServiceClients,
  sub: ReferenceSubscriber,
  tenantId: string,
  projection: Projection = 'full',
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await sub.caughtUp();
    const expected = await rosterCopy(clients, tenantId, projection);
    const diff = snapshotDiff(subscriberCopy(sub, tenantId), expected);
    if (diff.length === 0 || Date.now() > deadline) {
      expect(diff).toEqual([]);
      expect(expected.size).toBeGreaterThan(0);
      expect(sub.stats.invalid).toBe(0);
      return;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
