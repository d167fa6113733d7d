import { GrpcCallError } from '@isams-sync/grpc';
import type { bookingsV1 } from '@isams-sync/grpc';
import { rosterChangeEventTypes } from '@isams-sync/events';
import type { CloudEvent, RosterChangeData } from '@isams-sync/events';
import { createEventProducer, createKafkaClient, runConsumer } from '@isams-sync/kafka';
import type { ConsumerHandle, EventProducer, KafkaClient } from '@isams-sync/kafka';
import { createLogger } from '@isams-sync/logger';
import {
  createTestDatabase,
  eventually,
  createTestTopics,
  getTestInfra,
  testServiceIdentityDir,
  uniqueName,
} from '@isams-sync/testing';
import type { TestDatabase } from '@isams-sync/testing';
import { afterAll, beforeAll } from 'vitest';
import { createBookingsApp } from '../../src/app';
import type { BookingsApp, BookingsAppOverrides } from '../../src/app';
import { loadBookingsConfig } from '../../src/config';
import type { RosterDirectory } from '../../src/domain/roster-directory.port';
import { bookingsClient } from './bookings-client';
import type { BookingsClient } from './bookings-client';

export const logger = createLogger({
  service: 'bookings-test',
  level: process.env.TEST_LOG_LEVEL === 'debug' ? 'debug' : 'silent',
});

export interface Harness {
  app: BookingsApp;
  db: TestDatabase;
  rosterTopic: string;
  /** The bookings service's consumer group on the roster topic. */
  rosterGroupId: string;
  bookingsTopic: string;
  client: BookingsClient;
  /** Calls a BookingsService method as `tenantId`. */
  call<K extends keyof BookingsClient>(method: K, request: unknown, tenantId: string): Promise<unknown>;
  /** Booking events seen on the bookings topic so far. */
  published: CloudEvent[];
  publishRoster(events: CloudEvent[]): Promise<void>;
  /** Publishes and waits until the consumer recorded every event as processed. */
  sendRoster(events: CloudEvent[]): Promise<void>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  roster?: RosterDirectory;
  rosterAddress?: string;
  now?: () => Date;
  rosterTopic?: string;
  /** Partitions of the roster change topic the harness creates (default 1). */
  rosterPartitions?: number;
  /** A private Kafka + database (e.g. a `PrivateInfra` a test stops and starts); default the shared ones. */
  infra?: { kafkaBrokers: string[]; mongoUrl: string };
  extra?: BookingsAppOverrides;
}

/**
 * Registers the `beforeAll`/`afterAll` of the calling describe block: a harness started with
 * `options` before the block's first test (the returned object is filled in then), closed after it.
 */
export function useHarness(options: HarnessOptions = {}): Harness {
  const h = {} as Harness;
  beforeAll(async () => {
    Object.assign(h, await startHarness(options));
  });
  afterAll(async () => h.close?.());
  return h;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const infra = options.infra ?? getTestInfra();
  const db = await createTestDatabase('bookings', infra.mongoUrl);
  const [createdRoster, bookingsTopic] = await createTestTopics(
    [{ prefix: 'roster-changes', partitions: options.rosterPartitions ?? 1 }, { prefix: 'bookings-events' }],
    infra.kafkaBrokers,
  );
  const rosterTopic = options.rosterTopic ?? createdRoster!;
  const config = loadBookingsConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    KAFKA_BROKERS: infra.kafkaBrokers.join(','),
    KAFKA_TOPIC_REPLICATION_FACTOR: '1',
    MONGO_URL: infra.mongoUrl,
    MONGO_DB: db.name,
    GRPC_PORT: '0',
    GRPC_IDENTITY_DIR: testServiceIdentityDir(),
    OPS_PORT: '0',
    ROSTER_GRPC_ADDRESS: options.rosterAddress ?? '127.0.0.1:1',
    ROSTER_CHANGES_TOPIC: rosterTopic,
    BOOKINGS_EVENTS_TOPIC: bookingsTopic!,
    ROSTER_CHANGES_GROUP_ID: uniqueName('bookings'),
  });
  const rosterGroupId = config.ROSTER_CHANGES_GROUP_ID;
  // With a RosterService address the app uses its real gRPC directory; else a stub that knows everybody.
  const roster: RosterDirectory | undefined = options.rosterAddress
    ? undefined
    : (options.roster ?? { personExists: () => Promise.resolve(true) });
  const app = createBookingsApp(config, {
    logger,
    ...(roster ? { roster } : {}),
    sessionTimeoutMs: 6_000,
    ...(options.now ? { now: options.now } : {}),
    ...options.extra,
  });
  await app.start();

  const { client, call } = bookingsClient(app.grpcPort);

  const kafka = createKafkaClient({ brokers: infra.kafkaBrokers, clientId: 'bookings-test', logger });
  const producer: EventProducer = createEventProducer(kafka, { logger });
  await producer.connect();
  const published: CloudEvent[] = [];
  const watcher = watchTopic(kafka, bookingsTopic!, 'bookings-watch', (event) => published.push(event));
  await watcher.ready;

  const harness: Harness = {
    app,
    db,
    rosterTopic,
    rosterGroupId,
    bookingsTopic: bookingsTopic!,
    client,
    published,
    call,
    publishRoster: async (events) => {
      await producer.publish(rosterTopic, events);
    },
    async sendRoster(events) {
      await producer.publish(rosterTopic, events);
      for (const e of events)
        await eventually(() => app.store.isProcessed(e.tenantid, e.id), `roster event ${e.id} processed`);
    },
    async close() {
      client.close();
      await watcher.stop().catch(() => undefined);
      await producer.disconnect().catch(() => undefined);
      await app.stop();
      await db.drop();
    },
  };
  return harness;
}

/**
 * A consumer of `topic` from its beginning (a group of its own named after `groupPrefix`, a short
 * session) that hands every event to `seen`; the caller awaits `ready` and stops it.
 */
export function watchTopic(
  client: KafkaClient,
  topic: string,
  groupPrefix: string,
  seen: (event: CloudEvent) => void,
): ConsumerHandle {
  return runConsumer({
    client,
    groupId: uniqueName(groupPrefix),
    topics: [topic],
    handler: (event) => {
      seen(event);
      return Promise.resolve();
    },
    fromBeginning: true,
    sessionTimeoutMs: 6_000,
    heartbeatIntervalMs: 1_000,
    logger,
  });
}

/** A roster change event like the roster publishes (deterministic id per run + entity + change). */
export function rosterEvent(
  tenantId: string,
  kind: 'pupil' | 'staff' | 'contact',
  change: 'removed' | 'restored',
  entityId: string,
  opts: {
    syncRunId?: string;
    time?: Date;
    reason?: 'absent_from_feed' | 'approved_held_batch';
    graceUntil?: Date;
    heldBatchId?: string;
    /** The change's place in the school's changesets (absent: a change from before revisions existed). */
    revision?: { changeset: number; change: number };
  } = {},
): CloudEvent<RosterChangeData> {
  const syncRunId = opts.syncRunId ?? 'run-1';
  const data: RosterChangeData = {
    syncRunId,
    entityType: kind,
    entityId,
    change,
    ...(change === 'removed'
      ? {
          before: { id: entityId },
          removal: {
            reason: opts.reason ?? 'absent_from_feed',
            graceUntil: (opts.graceUntil ?? new Date(Date.now() + 14 * 86_400_000)).toISOString(),
            ...(opts.heldBatchId ? { heldBatchId: opts.heldBatchId, approvedBy: 'admin:1' } : {}),
          },
        }
      : { before: { id: entityId }, after: { id: entityId } }),
    ...(opts.revision ? { revision: opts.revision } : {}),
  };
  return rosterChangeEventTypes[kind][change].create({
    tenantId,
    syncRunId,
    subject: entityId,
    idParts: [syncRunId, entityId],
    time: opts.time ?? new Date(),
    data,
  });
}

/** The x-error-code of a failed call. */
export async function errorOf(
  p: Promise<unknown>,
): Promise<{ code: number; errorCode: string; details: unknown }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof GrpcCallError)
      return { code: err.code, errorCode: err.errorCode, details: err.details };
    throw err;
  }
  throw new Error('expected the call to fail');
}

export type { bookingsV1 };
