import { eventually, uniqueName } from '@isams-sync/testing';
import { describe, expect, it } from 'vitest';
import { AppError } from '@isams-sync/errors';
import { DLQ_HEADERS, topicOffsets } from '../src/index';
import { committedOffsets, FAST_RETRIES, pings, readRaw, useCleanups } from './support/kafka-test-kit';

const cleanups = useCleanups();
const rejected = () => new AppError({ code: 'TEST_REJECTED', kind: 'invalid_argument', message: 'bad data' });

describe('batch consumption (batchHandler)', () => {
  it('hands consecutive events over in batches of at most maxBatchSize, in order, and commits them', async () => {
    const { client, topic, producer } = await cleanups.freshTopicAndProducer(1);
    const events = pings(25, ['school-b']);
    await producer.publish(topic, events);
    const groupId = uniqueName('it-group');
    const batches: string[][] = [];
    const single: string[] = [];
    cleanups.consumeFromStart(client, topic, {
      groupId,
      ...FAST_RETRIES,
      maxBatchSize: 10,
      batchHandler: (batch) => {
        batches.push(batch.map((e) => e.id));
        return Promise.resolve();
      },
      handler: (event) => {
        single.push(event.id);
        return Promise.resolve();
      },
    });
    await eventually(() => batches.flat().length + single.length === 25, 'all handled');
    // The burst was on the topic before the consumer started: one fetch, batches of 10, 10, 5.
    expect(batches.map((b) => b.length)).toEqual([10, 10, 5]);
    expect(batches.flat()).toEqual(events.map((e) => e.id));
    expect(single).toEqual([]);
    await eventually(async () => (await committedOffsets(client, groupId, topic))[0] === '25', 'committed');
  });

  it('a batch is at most one fetch: maxBytesPerPartition bounds it, and sizes gives each event’s message size', async () => {
    const { client, topic, producer } = await cleanups.freshTopicAndProducer(1);
    // Twelve events of ~300 KB: 3.6 MB on the partition before the consumers start.
    const events = pings(12, ['school-big']).map((e, i) => ({
      ...e,
      data: { message: `${i}`.padEnd(300_000, 'x'), sequence: i },
    }));
    await producer.publish(topic, events);
    const batchesWith = async (maxBytesPerPartition: number | undefined) => {
      const batches: Array<{ ids: string[]; sizes: readonly number[] }> = [];
      let single = 0;
      cleanups.consumeFromStart(client, topic, {
        groupId: uniqueName('it-group'),
        ...FAST_RETRIES,
        ...(maxBytesPerPartition === undefined ? {} : { maxBytesPerPartition }),
        batchHandler: (batch, ctx) => {
          batches.push({ ids: batch.map((e) => e.id), sizes: ctx.sizes });
          return Promise.resolve();
        },
        handler: () => {
          single += 1;
          return Promise.resolve();
        },
      });
      await eventually(() => batches.flatMap((b) => b.ids).length + single === 12, 'all handled');
      return batches;
    };
    // kafkajs' default, 1 MiB of the partition a fetch: several batches of a few events.
    expect((await batchesWith(undefined)).length).toBeGreaterThan(1);
    // 8 MiB a fetch: the whole burst in one batch, each event's size given in order.
    const one = await batchesWith(8 * 1024 * 1024);
    expect(one.map((b) => b.ids)).toEqual([events.map((e) => e.id)]);
    expect(one[0]!.sizes).toHaveLength(12);
    for (const size of one[0]!.sizes) expect(size).toBeGreaterThan(300_000);
  });

  it('isolates a poison event by splitting its batch: it alone is dead-lettered, every other event handled once', async () => {
    const { client, topic, dlq, producer } = await cleanups.freshTopicAndProducer(1);
    const events = pings(16, ['school-p']);
    const poison = events[11]!;
    await producer.publish(topic, events);
    const groupId = uniqueName('it-group');
    const handled: string[] = [];
    let batchCalls = 0;
    cleanups.consumeFromStart(client, topic, {
      groupId,
      ...FAST_RETRIES,
      batchHandler: (batch) => {
        batchCalls += 1;
        // Validate first, then apply: a batch with the poison in it changes nothing.
        if (batch.some((e) => e.id === poison.id)) return Promise.reject(rejected());
        handled.push(...batch.map((e) => e.id));
        return Promise.resolve();
      },
      handler: (event) => {
        if (event.id === poison.id) return Promise.reject(rejected());
        handled.push(event.id);
        return Promise.resolve();
      },
    });
    await eventually(
      async () => (await committedOffsets(client, groupId, topic))[0] === '16',
      'all committed',
    );
    expect(handled).toEqual(events.filter((e) => e !== poison).map((e) => e.id));
    // 16 → 8 + 8 → 4 + 4 → 2 + 2 → 1 + 1: a handful of calls, not one per event.
    expect(batchCalls).toBeLessThan(8);
    const dead = await readRaw(client, dlq, 1);
    expect(dead.map((m) => [String(m.headers?.ce_id), String(m.headers?.[DLQ_HEADERS.attempts])])).toEqual([
      [poison.id, '1'],
    ]);
    expect((await topicOffsets(client, dlq)).map((o) => o.high)).toEqual(['1']);
  });

  it('retries a batch that failed for another reason, whole, from its first offset', async () => {
    const { client, topic, dlq, producer } = await cleanups.freshTopicAndProducer(1);
    const events = pings(6, ['school-t']);
    await producer.publish(topic, events);
    const groupId = uniqueName('it-group');
    const attempts: number[] = [];
    const handled: string[] = [];
    cleanups.consumeFromStart(client, topic, {
      groupId,
      ...FAST_RETRIES,
      batchHandler: (batch, ctx) => {
        attempts.push(ctx.attempt);
        if (ctx.attempt < 3) return Promise.reject(new Error('database away'));
        handled.push(...batch.map((e) => e.id));
        return Promise.resolve();
      },
      handler: () => Promise.reject(new Error('not expected: no event goes alone')),
    });
    await eventually(async () => (await committedOffsets(client, groupId, topic))[0] === '6', 'committed');
    expect(attempts).toEqual([1, 2, 3]);
    expect(handled).toEqual(events.map((e) => e.id));
    expect((await topicOffsets(client, dlq)).map((o) => o.high)).toEqual(['0']);
  });
});
