import { describe, expect, it } from 'vitest';
import { isAppError } from '@isams-sync/errors';
import { createEventProducer, ensureTopics, KafkaErrors, runConsumer } from '../src/index';
import { pings, testClient, testLogger } from './support/kafka-test-kit';

// Port 1 on loopback: nothing listens there, so every connect is refused.
const deadClient = () =>
  testClient({
    brokers: ['127.0.0.1:1'],
    connectionTimeoutMs: 500,
    requestTimeoutMs: 1000,
    retry: { retries: 1, initialRetryTimeMs: 100, maxRetryTimeMs: 200 },
  });

describe('unreachable broker', () => {
  it('publish keeps retrying until its deadline, then fails with KAFKA_PUBLISH_TIMEOUT (not hanging)', async () => {
    const producer = createEventProducer(deadClient(), {
      logger: testLogger,
      publishDeadlineMs: 4000,
      retryBackoff: { initialMs: 100, maxMs: 500 },
    });
    const err = await producer.publish('any-topic', pings(1, ['school-z'])).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isAppError(err)).toBe(true);
    expect((err as { code: string }).code).toBe('KAFKA_PUBLISH_TIMEOUT');
    await producer.disconnect();
  });

  it('publish times out with KAFKA_PUBLISH_TIMEOUT when the client’s own retries outlast the deadline', async () => {
    const client = testClient({
      brokers: ['127.0.0.1:1'],
      connectionTimeoutMs: 500,
      retry: { retries: 100, initialRetryTimeMs: 200, maxRetryTimeMs: 500 },
    });
    const producer = createEventProducer(client, { logger: testLogger, publishDeadlineMs: 1500 });
    await expect(producer.publish('any-topic', pings(1, ['school-z']))).rejects.toSatisfy((e) =>
      KafkaErrors.KAFKA_PUBLISH_TIMEOUT.is(e),
    );
    await producer.disconnect();
  });

  it('describeCluster and ensureTopics fail with KAFKA_UNAVAILABLE', async () => {
    const client = deadClient();
    await expect(client.describeCluster()).rejects.toMatchObject({ code: 'KAFKA_UNAVAILABLE' });
    await expect(ensureTopics(client, [])).rejects.toMatchObject({ code: 'KAFKA_UNAVAILABLE' });
  });

  it('a consumer that cannot connect rejects ready with KAFKA_CONSUMER_FAILED', async () => {
    const consumer = runConsumer({
      client: deadClient(),
      groupId: 'never-joins',
      topics: ['any-topic'],
      logger: testLogger,
      handler: async () => undefined,
    });
    await expect(consumer.ready).rejects.toMatchObject({ code: 'KAFKA_CONSUMER_FAILED' });
    await consumer.stop();
  });

  it('a publish still retrying fails with KAFKA_PUBLISH_FAILED as soon as the producer is disconnected', async () => {
    const producer = createEventProducer(deadClient(), { logger: testLogger, publishDeadlineMs: 600_000 });
    const pending = producer.publish('any-topic', pings(1, ['school-z'])).then(
      () => undefined,
      (e: unknown) => e,
    );
    await new Promise((r) => setTimeout(r, 1500));
    await producer.disconnect();
    expect(await pending).toMatchObject({ code: 'KAFKA_PUBLISH_FAILED' });
  });
});
