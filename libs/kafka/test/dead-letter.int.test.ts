import { eventually, uniqueName } from '@isams-sync/testing';
import { describe, expect, it } from 'vitest';
import type { CloudEvent } from '@isams-sync/events';
import { AppError } from '@isams-sync/errors';
import { DLQ_HEADERS, topicOffsets } from '../src/index';
import { tenantPartitioner } from '../src/partitioner';
import { committedOffsets, FAST_RETRIES, pings, readRaw, useCleanups } from './support/kafka-test-kit';

const cleanups = useCleanups();
const headersOf = (m: { headers?: Record<string, unknown> }) =>
  Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, String(v)]));

describe('retries and dead-lettering', () => {
  it('retries a failing handler and commits once it succeeds', async () => {
    const { client, topic, dlq, producer } = await cleanups.freshTopicAndProducer(1);
    const groupId = uniqueName('it-group');
    const attempts: number[] = [];
    const sizes: number[] = [];
    const done: string[] = [];
    cleanups.consumeFromStart(client, topic, {
      groupId,
      maxAttempts: 5,
      ...FAST_RETRIES,
      handler: async (event, ctx) => {
        attempts.push(ctx.attempt);
        sizes.push(ctx.bytes);
        if (ctx.attempt < 3) throw new Error('transient');
        done.push(event.id);
      },
    });
    const [event] = pings(1, ['school-r']);
    await producer.publish(topic, [event!]);
    await eventually(() => done.length === 1, 'handled');
    expect(attempts).toEqual([1, 2, 3]);
    expect(done).toEqual([event!.id]);
    // Each attempt is told the message's size (its value's bytes as stored).
    const [stored] = await readRaw(client, topic, 1);
    expect(sizes).toEqual([1, 2, 3].map(() => stored!.value!.length));
    expect(sizes[0]).toBeGreaterThan(0);
    await eventually(async () => (await committedOffsets(client, groupId, topic))[0] === '1', 'committed');
    // Nothing was dead-lettered.
    expect((await topicOffsets(client, dlq)).map((o) => o.high)).toEqual(['0']);
  });

  it('dead-letters a poison message at once and an always-failing event after maxAttempts, then carries on', async () => {
    const { client, topic, dlq, producer } = await cleanups.freshTopicAndProducer(1);
    const groupId = uniqueName('it-group');
    const [bad, rejected, good] = pings(3, ['school-d']);
    const attemptsOfBad: number[] = [];
    const handled: CloudEvent[] = [];
    cleanups.consumeFromStart(client, topic, {
      groupId,
      maxAttempts: 3,
      ...FAST_RETRIES,
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
    });
    // A message that is not a CloudEvent (no ce_ headers, not JSON), then three events.
    await producer.publishRaw(topic, [
      { key: 'school-d', value: 'definitely not json', headers: { 'x-origin': 'test' } },
    ]);
    await producer.publish(topic, [bad!, rejected!, good!]);

    await eventually(() => handled.length === 1, 'good event handled');
    expect(handled[0]!.id).toBe(good!.id);
    expect(attemptsOfBad).toEqual([1, 2, 3]);
    await eventually(
      async () => (await committedOffsets(client, groupId, topic))[0] === '4',
      'all committed',
    );

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

describe('transient failures are retried until they succeed', () => {
  const unavailable = () =>
    new AppError({ code: 'MONGO_UNAVAILABLE', kind: 'unavailable', message: 'The database is unavailable' });

  it('pauses only the failing partition: the others go on, its later events wait in order, nothing is dead-lettered', async () => {
    const { client, topic, dlq, producer } = await cleanups.freshTopicAndProducer(2);
    // Two schools on different partitions of a two-partition topic.
    const partitionOf = (tenant: string) =>
      tenantPartitioner()({
        topic,
        partitionMetadata: [0, 1].map((partitionId) => ({
          partitionId,
          leader: 1,
          replicas: [1],
          isr: [1],
          partitionErrorCode: 0,
        })),
        message: { key: tenant, value: null, headers: { ce_tenantid: tenant } },
      });
    const a = 'school-a';
    const b = ['school-b', 'school-c', 'school-d', 'school-e', 'school-f'].find(
      (t) => partitionOf(t) !== partitionOf(a),
    )!;
    let down = true;
    const handled: string[] = [];
    const attemptsOf = new Map<string, number>();
    cleanups.consumeFromStart(client, topic, {
      groupId: uniqueName('it-group'),
      backoff: { initialMs: 100, maxMs: 400, jitter: 0 },
      handler: async (event, ctx) => {
        attemptsOf.set(event.id, ctx.attempt);
        // School a's database is away; school b's work is not.
        if (event.tenantid === a && down) throw unavailable();
        handled.push(event.id);
      },
    });
    const first = await producer.publish(topic, pings(3, [a], uniqueName('a')));
    const second = await producer.publish(topic, pings(3, [b], uniqueName('b')));
    expect(first.partitions[0]!.partition).not.toBe(second.partitions[0]!.partition);
    const aEvents = (await readRaw(client, topic, 6))
      .filter((r) => r.partition === first.partitions[0]!.partition)
      .map((r) => headersOf(r).ce_id!);
    const bEvents = (await readRaw(client, topic, 6))
      .filter((r) => r.partition === second.partitions[0]!.partition)
      .map((r) => headersOf(r).ce_id!);

    // School b is processed while school a's first event keeps failing.
    await eventually(() => bEvents.every((id) => handled.includes(id)), 'school b handled');
    await eventually(() => (attemptsOf.get(aEvents[0]!) ?? 0) >= 6, 'school a retried many times', {
      timeoutMs: 60_000,
    });
    expect(handled.filter((id) => aEvents.includes(id))).toEqual([]);
    expect(attemptsOf.has(aEvents[1]!)).toBe(false); // waits behind the first, in order

    down = false;
    await eventually(() => aEvents.every((id) => handled.includes(id)), 'school a handled after the outage');
    expect(handled.filter((id) => aEvents.includes(id))).toEqual(aEvents);
    expect((await topicOffsets(client, dlq)).map((o) => o.high)).toEqual(['0']);
  });

  it('a permanent failure (unknown event type, invalid data) is dead-lettered at the first attempt', async () => {
    const { client, topic, dlq, producer } = await cleanups.freshTopicAndProducer(1);
    const [event] = pings(1, ['school-p']);
    const attempts: number[] = [];
    cleanups.consumeFromStart(client, topic, {
      groupId: uniqueName('it-group'),
      ...FAST_RETRIES,
      handler: async (_e, ctx) => {
        attempts.push(ctx.attempt);
        throw new AppError({
          code: 'EVENT_TYPE_UNKNOWN',
          kind: 'invalid_argument',
          message: 'Unknown event type',
        });
      },
    });
    await producer.publish(topic, [event!]);
    const [dead] = await readRaw(client, dlq, 1);
    expect(attempts).toEqual([1]);
    expect(headersOf(dead!)).toMatchObject({
      ce_id: event!.id,
      [DLQ_HEADERS.errorCode]: 'EVENT_TYPE_UNKNOWN',
      [DLQ_HEADERS.attempts]: '1',
    });
  });
});
