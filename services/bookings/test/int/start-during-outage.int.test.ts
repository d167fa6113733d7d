import { afterAll, describe, it } from 'vitest';
import { createEventProducer, createKafkaClient } from '@isams-sync/kafka';
import {
  createTestDatabase,
  createTestTopics,
  dependencyGates,
  eventually,
  expectExitsOnSigterm,
  expectLiveNotReady,
  expectReadyAfterOutage,
  getTestInfra,
  spawnWatchedService,
  uniqueName,
} from '@isams-sync/testing';
import type { DependencyGates, TestDatabase, WatchedService } from '@isams-sync/testing';
import { MongoBookingsStore } from '../../src/adapters/mongo/bookings.store';
import { logger, rosterEvent } from '../support/harness';

/**
 * docs/deploy.md › A service not ready: a pod that starts while Kafka and MongoDB are unreachable
 * (a rolling deploy during an outage) does not exit into CrashLoopBackOff — it stays up, live and
 * not ready, and becomes ready and consumes by itself once both answer.
 */
describe('bookings started while Kafka and MongoDB are unreachable', () => {
  const gated: DependencyGates[] = [];
  let service: WatchedService | undefined;
  let db: TestDatabase | undefined;
  afterAll(async () => {
    service?.kill('SIGKILL');
    for (const g of gated) await g.close();
    await db?.drop();
  });

  it('stays up, live and not ready, then becomes ready and consumes once both come back; SIGTERM exits 0', async () => {
    const infra = getTestInfra();
    db = await createTestDatabase('bookings');
    const [rosterTopic, bookingsTopic] = await createTestTopics(
      [{ prefix: 'roster-changes' }, { prefix: 'bookings-events' }],
      infra.kafkaBrokers,
    );
    const outage = await dependencyGates();
    gated.push(outage);
    const bookings = (service = await spawnWatchedService('services/bookings/src/main.ts', {
      KAFKA_BROKERS: outage.kafka.address,
      MONGO_URL: outage.mongoUrl,
      MONGO_DB: db.name,
      ROSTER_GRPC_ADDRESS: '127.0.0.1:1',
      ROSTER_CHANGES_TOPIC: rosterTopic!,
      BOOKINGS_EVENTS_TOPIC: bookingsTopic!,
      ROSTER_CHANGES_GROUP_ID: uniqueName('bookings-outage'),
    }));

    // Both dependencies refuse: the process must not exit, and must say it is live but not ready.
    await expectLiveNotReady(bookings);

    // Both come back: ready by itself, and the consumer works.
    outage.mongo.open();
    outage.kafka.open();
    await expectReadyAfterOutage(bookings);
    const kafka = createKafkaClient({ brokers: infra.kafkaBrokers, clientId: 'outage-test', logger });
    const producer = createEventProducer(kafka, { logger });
    await producer.connect();
    const event = rosterEvent('school-outage', 'pupil', 'removed', 'p1');
    await producer.publish(rosterTopic!, [event]);
    await producer.disconnect();
    const store = await MongoBookingsStore.create(db.db);
    await eventually(() => store.isProcessed('school-outage', event.id), 'the roster change consumed', {
      timeoutMs: 120_000,
    });

    await expectExitsOnSigterm(bookings);
  }, 600_000);
});
