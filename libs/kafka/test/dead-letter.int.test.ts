import { afterEach, describe, expect, it } from 'vitest';
import { uniqueName } from '@isams-sync/testing';
import type { CloudEvent } from '@isams-sync/events';
import { AppError } from '@isams-sync/errors';
import { createEventProducer, DLQ_HEADERS, runConsumer, topicOffsets } from '../src/index';
import type { ConsumerHandle } from '../src/index';
import {
  committedOffsets,
  FAST_GROUP,
  freshTopic,
  pings,
  readRaw,
  testClient,
  testLogger,
  waitFor,
} from './support/kafka-test-kit';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});
const track = (c: ConsumerHandle): ConsumerHandle => {
  cleanups.push(() => c.stop());
  return c;
};
const headersOf = (m: { headers?: Record<string, unknown> }) =>
  Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, String(v)]));
const fast = { ...FAST_GROUP, backoff: { initialMs: 50, maxMs: 200, jitter: 0 } };

describe('retries and dead-lettering', () => {
  it('retries a failing handler and commits once it succeeds', async () => {
    const client = testClient();
    const { topic, dlq } = await freshTopic(client, 1);
    const producer = createEventProducer(client, { logger: testLogger });
    cleanups.push(() => producer.disconnect());
    const groupId = uniqueName('it-group');
    const attempts: number[] = [];
    const done: string[] = [];
    track(
      runConsumer({
        client,
        groupId,
        topics: [topic],
        fromBeginning: true,
        maxAttempts: 5,
        logger: testLogger,
        ...fast,
        handler: async (event, ctx) => {
          attempts.push(ctx.attempt);
          if (ctx.attempt < 3) throw new Error('transient');
          done.push(event.id);
        },
      }),
    );
    const [event] = pings(1, ['school-r']);
    await producer.publish(topic, [event!]);
    await waitFor('handled', () => done.length === 1);
    expect(attempts).toEqual([1, 2, 3]);
    expect(done).toEqual([event!.id]);
    await waitFor('committed', async () => (await committedOffsets(client, groupId, topic))[0] === '1');
    // Nothing was dead-lettered.
    expect((await topicOffsets(client, dlq)).map((o) => o.high)).toEqual(['0']);
  });

  it('dead-letters a poison message at once and an always-failing event after maxAttempts, then carries on', async () => {
    const client = testClient();
    const { topic, dlq } = await freshTopic(client, 1);
    const producer = createEventProducer(client, { logger: testLogger });
    cleanups.push(() => producer.disconnect());
    const groupId = uniqueName('it-group');
    const [bad, rejected, good] = pings(3, ['school-d']);
    const attemptsOfBad: number[] = [];
    const handled: CloudEvent[] = [];
    track(
      runConsumer({
        client,
        groupId,
        topics: [topic],
        fromBeginning: true,
        maxAttempts: 3,
        logger: testLogger,
        ...fast,
        handler: async (event, ctx) => {
          if (event.id === bad!.id) {
            attemptsOfBad.push(ctx.attempt);
            throw new Error('handler keeps failing');
          }
          if (event.id === rejected!.id) {
            throw new AppError({ code: 'TEST_REJECTED', kind: 'invalid_argument', message: 'not retryable' });
          }
          handled.push(event);
        },
      }),
    );
    // A message that is not a CloudEvent (no ce_ headers, not JSON), then three events.
    await producer.publishRaw(topic, [
      { key: 'school-d', value: 'definitely not json', headers: { 'x-origin': 'test' } },
    ]);
    await producer.publish(topic, [bad!, rejected!, good!]);

    await waitFor('good event handled', () => handled.length === 1);
    expect(handled[0]!.id).toBe(good!.id);
    expect(attemptsOfBad).toEqual([1, 2, 3]);
    await waitFor('all committed', async () => (await committedOffsets(client, groupId, topic))[0] === '4');

    const dead = (await readRaw(client, dlq, 3)).map((m) => ({ ...m, h: headersOf(m) }));
    expect(dead).toHaveLength(3);
    const [poison, exhausted, nonRetryable] = dead;
    expect(poison!.value!.toString()).toBe('definitely not json');
    expect(poison!.key!.toString()).toBe('school-d');
    expect(poison!.h).toMatchObject({
      'x-origin': 'test',
      [DLQ_HEADERS.errorCode]: 'KAFKA_MESSAGE_INVALID',
      [DLQ_HEADERS.originalTopic]: topic,
      [DLQ_HEADERS.originalPartition]: '0',
      [DLQ_HEADERS.originalOffset]: '0',
      [DLQ_HEADERS.attempts]: '0',
      [DLQ_HEADERS.consumerGroup]: groupId,
    });
    expect(poison!.h[DLQ_HEADERS.reason]).toMatch(/missing headers ce_specversion/);

    expect(exhausted!.h).toMatchObject({
      ce_id: bad!.id,
      [DLQ_HEADERS.errorCode]: 'UNHANDLED',
      [DLQ_HEADERS.originalOffset]: '1',
      [DLQ_HEADERS.attempts]: '3',
    });
    expect(exhausted!.h[DLQ_HEADERS.reason]).toMatch(/handler keeps failing/);
    expect(JSON.parse(exhausted!.value!.toString())).toEqual(bad!.data);

    expect(nonRetryable!.h).toMatchObject({
      ce_id: rejected!.id,
      [DLQ_HEADERS.errorCode]: 'TEST_REJECTED',
      [DLQ_HEADERS.originalOffset]: '2',
      [DLQ_HEADERS.attempts]: '1',
    });
  });
});
