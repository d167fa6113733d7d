import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  capturedLogger,
  dependencyGates,
  eventually,
  expectExitsOnSigterm,
  expectLiveNotReady,
  expectReadyAfterOutage,
  expectStepOutagesWaitedOut,
  gatesLosingAt,
  mongoCommandBytes,
  rosterTopicEnv,
  spawnWatchedService,
  uniqueName,
  watchStart,
} from '@isams-sync/testing';
import type { DependencyGates, WatchedService } from '@isams-sync/testing';
import { createRosterApp } from '../src/app';
import type { RosterApp } from '../src/app';
import { chunkOf } from '../src/adapters/mongo/documents';
import type { EntityBucketDoc } from '../src/adapters/mongo/documents';
import { COLLECTIONS, RosterStore } from '../src/adapters/mongo/roster-store';
import { ids } from '../src/use-cases/records';
import type { EntityRecord } from '../src/use-cases/records';
import { createHarness } from './support/harness';
import type { Harness } from './support/harness';
import { miniSchool } from './support/mini-school';
import { publishSnapshot } from './support/school-feed';
import { pupilRecord } from './support/entity-record';

/**
 * docs/deploy.md › A service not ready: a roster pod that starts while Kafka or MongoDB is
 * unreachable — also when it is lost again during the rest of the start (the legacy migration, the
 * consumer's first join) — does not exit into CrashLoopBackOff: it waits, live and not ready, and
 * starts by itself once the dependency answers.
 */
describe('roster started during an outage', () => {
  let h: Harness;
  const gated: DependencyGates[] = [];
  let service: WatchedService | undefined;
  let app: RosterApp | undefined;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    service?.kill('SIGKILL');
    await app?.stop();
    for (const g of gated) await g.close();
    await h?.close();
  });

  it('stays up, live and not ready, then becomes ready and applies a run once both come back; SIGTERM exits 0', async () => {
    const outage = await dependencyGates();
    gated.push(outage);
    const roster = (service = await spawnWatchedService('services/roster/src/main.ts', {
      KAFKA_BROKERS: outage.kafka.address,
      KAFKA_ENSURE_TOPICS: 'false',
      MONGO_URL: outage.mongoUrl,
      MONGO_DB: h.db.name,
      ...rosterTopicEnv(h.topics),
      RAW_DATASETS_GROUP_ID: uniqueName('roster-outage'),
    }));

    await expectLiveNotReady(roster);

    outage.mongo.open();
    outage.kafka.open();
    await expectReadyAfterOutage(roster);
    const tenantId = uniqueName('school-outage');
    await publishSnapshot(h.producer, h.topics.raw, tenantId, 'run-1', miniSchool(3));
    const store = new RosterStore(h.db.db);
    await eventually(
      async () => (await store.getChangeset(tenantId, ids.changeset(tenantId, 'run-1')))?.state === 'done',
      'the run consumed and applied',
      { timeoutMs: 120_000, detail: roster.detail },
    );

    await expectExitsOnSigterm(roster);
  }, 600_000);

  it('waits out MongoDB lost during the legacy migration and Kafka lost before the consumer joins, then starts with the roster migrated and turns ready at once', async () => {
    const store = new RosterStore(h.db.db);
    const tenantId = uniqueName('legacy');
    await store.insertPacked(COLLECTIONS.entityBuckets, legacyBuckets(tenantId, ['1', '2', '3', '4']));
    // The database is lost as the migration deletes its first converted bucket (its entities and
    // manifest written), and the broker as the resume of earlier work reads the changesets (just
    // before the consumer connects).
    const gates = await gatesLosingAt(
      mongoCommandBytes('delete', COLLECTIONS.entityBuckets),
      mongoCommandBytes('find', COLLECTIONS.changesets),
    );
    gated.push(gates);
    const { logger, lines } = capturedLogger('roster');
    const created = (app = createRosterApp(
      {
        ...h.config,
        KAFKA_BROKERS: [gates.kafka.address],
        MONGO_URL: gates.mongoUrl,
        RAW_DATASETS_GROUP_ID: uniqueName('roster-steps'),
        // The probes' own round would come only after an hour: ready must follow the start at once.
        READINESS_INTERVAL_MS: 3_600_000,
      },
      { logger, disableSweeper: true, sessionTimeoutMs: 6000 },
    ));
    const start = watchStart(() => created.start(), lines);

    await expectStepOutagesWaitedOut(start, lines, gates, 'legacy migration', () => created.opsPort);
    expect(await store.legacyBucketTenants()).not.toContain(tenantId);
    expect((await store.loadStored(tenantId)).activeCounts.pupil).toBe(4);
  }, 600_000);
});

/** A school's roster as a version before #17 stored it: packed buckets of pupils (migrated on start). */
function legacyBuckets(tenantId: string, entityIds: readonly string[]): EntityBucketDoc[] {
  const byBucket = new Map<number, EntityRecord[]>();
  for (const id of entityIds)
    byBucket.set(chunkOf(id), [...(byBucket.get(chunkOf(id)) ?? []), pupilRecord(id)]);
  return [...byBucket].map(([n, entities]) => ({
    _id: ids.bucket(tenantId, 'pupil', n),
    tenantId,
    entityType: 'pupil',
    bucket: n,
    entities,
  }));
}
