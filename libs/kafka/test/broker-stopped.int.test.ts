import { eventually } from '@isams-sync/testing';
import { describe, expect, it } from 'vitest';
import { isAppError } from '@isams-sync/errors';
import { freshTopic, pings, testClient, usePrivateBroker } from './support/kafka-test-kit';

// A broker of our own (not the shared one other test files use), stopped in the middle of the test.
describe('broker stopped mid-test', () => {
  const broker = usePrivateBroker(
    (brokers) =>
      testClient({
        brokers,
        connectionTimeoutMs: 1000,
        requestTimeoutMs: 3000,
        retry: { retries: 2, initialRetryTimeMs: 100, maxRetryTimeMs: 500 },
      }),
    { publishDeadlineMs: 8000 },
  );

  it('publishing to a broker that stays gone fails with a clear KAFKA_* error at the publish deadline, instead of hanging', async () => {
    const { infra, client, producer } = broker;
    const { topic } = await freshTopic(client, 1);
    const received: string[] = [];
    const consumer = broker.consumeFromStart(topic, {
      groupId: `${topic}-group`,
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
