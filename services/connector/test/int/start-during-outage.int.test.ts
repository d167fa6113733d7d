import { afterAll, describe, expect, it } from 'vitest';
import {
  capturedLogger,
  dependencyGates,
  expectExitsOnSigterm,
  expectLiveNotReady,
  expectReadyAfterOutage,
  expectStepOutagesWaitedOut,
  gatesLosingAt,
  getTestInfra,
  mongoCommandBytes,
  spawnWatchedService,
  watchStart,
} from '@isams-sync/testing';
import type { DependencyGates, WatchedService } from '@isams-sync/testing';
import { MongoClient } from 'mongodb';
import { createConnectorApp } from '../../src/app';
import type { ConnectorApp } from '../../src/app';
import { COLLECTIONS } from '../../src/adapters/mongo/collections';
import { loadConnectorConfig } from '../../src/config';
import { connectorClient, connectorTestEnv, readCollection } from '../support/connector-harness';
import { legacyKey } from '../support/legacy-key';

/**
 * docs/deploy.md › A service not ready: a connector pod that starts while Kafka or MongoDB is
 * unreachable — also when it is lost again during the rest of the start (the binding of legacy keys,
 * the consumer's first join) — does not exit into CrashLoopBackOff: it waits, live and not ready, and
 * starts by itself once the dependency answers.
 */
describe('connector started during an outage', () => {
  const env = connectorTestEnv();
  const gated: DependencyGates[] = [];
  let service: WatchedService | undefined;
  let app: ConnectorApp | undefined;
  afterAll(async () => {
    service?.kill('SIGKILL');
    await app?.stop();
    for (const g of gated) await g.close();
    await env.dropDatabase();
  });

  it('stays up, live and not ready, then becomes ready and serves once both come back; SIGTERM exits 0', async () => {
    const outage = await dependencyGates();
    gated.push(outage);
    const connector = (service = await spawnWatchedService(
      'services/connector/src/main.ts',
      env.env({
        KAFKA_BROKERS: outage.kafka.address,
        MONGO_URL: outage.mongoUrl,
        SCHEDULER_ENABLED: 'false',
      }),
    ));

    await expectLiveNotReady(connector);

    outage.mongo.open();
    outage.kafka.open();
    await expectReadyAfterOutage(connector);
    const client = connectorClient(connector.grpcPort);
    try {
      expect((await client.listSyncRuns({}, client.md('school-outage'))).runs).toEqual([]);
    } finally {
      client.close();
    }

    await expectExitsOnSigterm(connector);
  }, 600_000);

  it('waits out MongoDB lost while binding a legacy key and Kafka lost before the consumer joins, then starts with the key bound and the school scheduled, and turns ready at once', async () => {
    const tenantId = 'school-legacy-outage';
    await insertLegacySettings(env.mongoDb, tenantId, env.kek);
    // The database is lost as the legacy key's binding is written, and the broker as the schedules
    // are reconciled (just before the consumer connects).
    const gates = await gatesLosingAt(
      mongoCommandBytes('update', COLLECTIONS.settings),
      mongoCommandBytes('find', COLLECTIONS.schedules),
    );
    gated.push(gates);
    const { logger, lines } = capturedLogger('connector');
    const created = (app = createConnectorApp(
      loadConnectorConfig(
        env.env({
          KAFKA_BROKERS: gates.kafka.address,
          MONGO_URL: gates.mongoUrl,
          SCHEDULER_ENABLED: 'false',
          // The probes' own round would come only after an hour: ready must follow the start at once.
          READINESS_INTERVAL_MS: '1h',
        }),
      ),
      { logger },
    ));
    const start = watchStart(() => created.start(), lines);

    await expectStepOutagesWaitedOut(start, lines, gates, 'legacy key binding', () => created.opsPort);
    const [settings] = await readCollection(env, COLLECTIONS.settings, { _id: tenantId });
    expect(settings!.key).toMatchObject({ binding: 'tenant-origin' });
    const [schedule] = await readCollection(env, COLLECTIONS.schedules, { _id: tenantId });
    expect(schedule).toMatchObject({ tenantId, consecutiveFailures: 0 });
    expect(lines.join('')).not.toContain('it does not decrypt');
  }, 600_000);
});

/** A school's settings as stored before the host binding and `sync_schedules`: a legacy key, sync on, no schedule. */
async function insertLegacySettings(dbName: string, tenantId: string, kek: string): Promise<void> {
  const client = new MongoClient(getTestInfra().mongoUrl);
  await client.connect();
  try {
    const now = new Date();
    await client
      .db(dbName)
      .collection<Record<string, unknown>>(COLLECTIONS.settings)
      .insertOne({
        _id: tenantId as never,
        tenantId,
        isamsUrl: 'https://school.example.com',
        format: 'xml',
        scheduleMinutes: 60,
        enabled: true,
        key: legacyKey(kek, tenantId, 'KEY-7777'),
        keyLast4: '7777',
        keyUpdatedAt: now,
        consecutiveFailures: 0,
        updatedAt: now,
        updatedBy: 'admin:old',
      });
  } finally {
    await client.close();
  }
}
