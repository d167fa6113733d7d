import { eventually, PrivateInfra } from '@isams-sync/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '@isams-sync/errors';
import { createEventProducer, runConsumer } from '../src/index';
import type { ConsumerHandle, EventProducer, KafkaClient } from '../src/index';
import { FAST_GROUP, freshTopic, pings, testClient, testLogger } from './support/kafka-test-kit';

// A broker of our own (not the shared one other test files use), stopped in the middle of the test.
describe('broker stopped mid-test', () => {
  let infra: PrivateInfra;
  let client: KafkaClient;
  let producer: EventProducer;
  let consumer: ConsumerHandle | undefined;

  beforeAll(async () => {
    infra = await PrivateInfra.up();
    client = testClient({
      brokers: infra.kafkaBrokers,
      connectionTimeoutMs: 1000,
      requestTimeoutMs: 3000,
      retry: { retries: 2, initialRetryTimeMs: 100, maxRetryTimeMs: 500 },
    });
    producer = createEventProducer(client, { logger: testLogger, publishDeadlineMs: 8000 });
  }, 300_000);

  afterAll(async () => {
    await consumer?.stop().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    infra?.destroy();
  }, 120_000);

  it('publishing to a broker that stays gone fails with a clear KAFKA_* error at the publish deadline, instead of hanging', async () => {
    const { topic } = await freshTopic(client, 1);
    const received: string[] = [];
    consumer = runConsumer({
      client,
      groupId: `${topic}-group`,
      topics: [topic],
      fromBeginning: true,
      logger: testLogger,
      ...FAST_GROUP,
      handler: async (event) => {
        received.push(event.id);
      },
    });
    await consumer.ready;
    await producer.publish(topic, pings(3, ['school-a']));
    await eventually(() => received.length === 3, 'three events consumed', { timeoutMs: 30_000 });

    await infra.stopServer('kafka');

    const err = await producer.publish(topic, pings(1, ['school-a'], 'after-stop')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isAppError(err)).toBe(true);
    expect((err as { code: string }).code).toMatch(/^KAFKA_(PUBLISH_FAILED|PUBLISH_TIMEOUT|UNAVAILABLE)$/);
    // The message says what failed; it must not be a bare stack from kafkajs.
    expect((err as Error).message).toMatch(/Kafka/i);
    expect(received).toHaveLength(3);
  }, 180_000);
});
