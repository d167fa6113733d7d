import { getTestInfra, PrivateInfra, uniqueName } from '@isams-sync/testing';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createLogger } from '@isams-sync/logger';
import type { Logger } from '@isams-sync/logger';
import type { TopicSpec } from '@isams-sync/events';
import { platformPingV1 } from '@isams-sync/events';
import type { CloudEvent } from '@isams-sync/events';
import {
  createEventProducer,
  createKafkaClient,
  ensureTopics,
  groupOffsets,
  readTopic,
  runConsumer,
} from '../../src/index';
import type {
  ConsumerHandle,
  EventProducer,
  EventProducerOptions,
  KafkaClient,
  KafkaClientOptions,
  RunConsumerOptions,
  TopicRecord,
  TopicTail,
} from '../../src/index';

/** Quiet by default; `TEST_LOG_LEVEL=debug` shows kafkajs logs. */
export const testLogger: Logger = createLogger({
  service: 'kafka-test',
  level: (process.env.TEST_LOG_LEVEL as 'debug' | undefined) ?? 'silent',
});

/** Short timeouts so failures surface fast. */
export const FAST_GROUP = { sessionTimeoutMs: 6000, heartbeatIntervalMs: 1000, rebalanceTimeoutMs: 10_000 };

/** {@link FAST_GROUP} with a short back-off without jitter, for tests of retries. */
export const FAST_RETRIES = { ...FAST_GROUP, backoff: { initialMs: 50, maxMs: 200, jitter: 0 } };

/** What a test started and must stop; see {@link useCleanups}. */
export interface Cleanups {
  /** Runs `fn` after the current test (the last one registered runs first). */
  defer(fn: () => Promise<void>): void;
  /** Stops the consumer or tail (disconnects the producer) after the current test; returns it. */
  track<T extends ConsumerHandle | TopicTail | EventProducer>(x: T): T;
  /** A producer with the quiet test logger, disconnected after the current test. */
  producer(client: KafkaClient, options?: EventProducerOptions): EventProducer;
  /**
   * A consumer of `topic` from its beginning, with the quiet test logger and {@link FAST_GROUP}
   * timings unless `options` say otherwise, stopped after the current test.
   */
  consumeFromStart(
    client: KafkaClient,
    topic: string,
    options: Omit<RunConsumerOptions, 'client' | 'topics'>,
  ): ConsumerHandle;
  /** A test client, a {@link freshTopic} of `partitions` partitions and a {@link Cleanups.producer} on that client. */
  freshTopicAndProducer(
    partitions: number,
  ): Promise<{ client: KafkaClient; topic: string; dlq: string; producer: EventProducer }>;
}

/**
 * Call once at the top of a test file: after each of its tests, whatever the test tracked is
 * stopped, last first, so no consumer or producer outlives its test.
 */
export function useCleanups(): Cleanups {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()!();
  });
  const defer = (fn: () => Promise<void>): void => void cleanups.push(fn);
  const track = <T extends ConsumerHandle | TopicTail | EventProducer>(x: T): T => {
    defer(() => ('stop' in x ? x.stop() : x.disconnect()));
    return x;
  };
  const producer = (client: KafkaClient, options: EventProducerOptions = {}): EventProducer =>
    track(createEventProducer(client, { logger: testLogger, ...options }));
  const consumeFromStartTracked: Cleanups['consumeFromStart'] = (client, topic, options) =>
    track(consumeFromStart(client, topic, options));
  const freshTopicAndProducer: Cleanups['freshTopicAndProducer'] = async (partitions) => {
    const client = testClient();
    const { topic, dlq } = await freshTopic(client, partitions);
    return { client, topic, dlq, producer: producer(client) };
  };
  return { defer, track, producer, consumeFromStart: consumeFromStartTracked, freshTopicAndProducer };
}

/**
 * A consumer of `topic` from its beginning, with the quiet test logger and {@link FAST_GROUP}
 * timings unless `options` say otherwise; the caller stops it (see {@link Cleanups.consumeFromStart}).
 */
export function consumeFromStart(
  client: KafkaClient,
  topic: string,
  options: Omit<RunConsumerOptions, 'client' | 'topics'>,
): ConsumerHandle {
  return runConsumer({
    client,
    topics: [topic],
    fromBeginning: true,
    logger: testLogger,
    ...FAST_GROUP,
    ...options,
  });
}

/** A broker of the test file's own (see {@link usePrivateBroker}); filled in before the block's first test. */
export interface PrivateBroker {
  /** The private Kafka (and database): the test stops and restarts its servers. */
  infra: PrivateInfra;
  client: KafkaClient;
  producer: EventProducer;
  /** {@link consumeFromStart} on {@link PrivateBroker.client}, stopped after the block's tests. */
  consumeFromStart(topic: string, options: Omit<RunConsumerOptions, 'client' | 'topics'>): ConsumerHandle;
}

/**
 * Call once in a `describe`: before its tests a private broker (not the shared one other test files
 * use) is brought up with the client `clientOf(brokers)` and a producer (quiet test logger, then
 * `producerOptions`); after them its consumers, the producer and the broker are stopped — failures
 * ignored, as the tests stop the broker on purpose.
 */
export function usePrivateBroker(
  clientOf: (brokers: string[]) => KafkaClient,
  producerOptions: EventProducerOptions = {},
): PrivateBroker {
  const consumers: ConsumerHandle[] = [];
  const broker = {
    consumeFromStart(topic, options) {
      const consumer = consumeFromStart(broker.client, topic, options);
      consumers.push(consumer);
      return consumer;
    },
  } as PrivateBroker;
  beforeAll(async () => {
    broker.infra = await PrivateInfra.up();
    broker.client = clientOf(broker.infra.kafkaBrokers);
    broker.producer = createEventProducer(broker.client, { logger: testLogger, ...producerOptions });
  }, 300_000);
  afterAll(async () => {
    for (const c of consumers) await c.stop().catch(() => undefined);
    await broker.producer?.disconnect().catch(() => undefined);
    broker.infra?.destroy();
  }, 120_000);
  return broker;
}

export function testClient(overrides: Partial<KafkaClientOptions> = {}): KafkaClient {
  return createKafkaClient({
    brokers: getTestInfra().kafkaBrokers,
    clientId: uniqueName('kafka-test'),
    logger: testLogger,
    connectionTimeoutMs: 3000,
    requestTimeoutMs: 10_000,
    retry: { retries: 3, initialRetryTimeMs: 100, maxRetryTimeMs: 1000 },
    ...overrides,
  });
}

/** A fresh topic and its DLQ, created through ensureTopics. */
export async function freshTopic(
  client: KafkaClient,
  partitions = 3,
): Promise<{ topic: string; dlq: string }> {
  const topic = uniqueName('it-topic');
  const specs: TopicSpec[] = [
    { name: topic, partitions, configEntries: {}, keying: 'tenant', description: 'test' },
    { name: `${topic}.dlq`, partitions: 1, configEntries: {}, keying: 'tenant', description: 'test dlq' },
  ];
  await ensureTopics(client, specs);
  return { topic, dlq: `${topic}.dlq` };
}

export function pings(count: number, tenants: string[], runId = uniqueName('run')): CloudEvent[] {
  return Array.from({ length: count }, (_, i) =>
    platformPingV1.create({
      tenantId: tenants[i % tenants.length]!,
      idParts: [runId, String(i)],
      subject: `ping-${i}`,
      syncRunId: runId,
      data: { message: `ping ${i}`, sequence: i },
    }),
  );
}

/** A received record with its partition. */
export type RawRecord = TopicRecord;

/** Reads every raw message of `topic` from the beginning until `count` arrived. */
export async function readRaw(client: KafkaClient, topic: string, count: number): Promise<RawRecord[]> {
  return readTopic(client, topic, { until: (records) => records.length >= count, timeoutMs: 30_000 });
}

/** The committed offset of `groupId` per partition of `topic` (-1 = none). */
export function committedOffsets(
  client: KafkaClient,
  groupId: string,
  topic: string,
): Promise<Record<number, string>> {
  return groupOffsets(client, groupId, topic);
}
