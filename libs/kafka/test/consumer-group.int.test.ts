import { eventually, uniqueName } from '@isams-sync/testing';
import { describe, expect, it } from 'vitest';
import type { ConsumerHandle } from '../src/index';
import { consumeFromStart, pings, testLogger, useCleanups } from './support/kafka-test-kit';

const cleanups = useCleanups();

const partitionsOf = (c: ConsumerHandle, topic: string): number[] => c.assignments()[topic] ?? [];

describe('consumer group', () => {
  it('spreads partitions over two members and hands all to the survivor without losing messages', async () => {
    const { client, topic, producer } = await cleanups.freshTopicAndProducer(6);
    const groupId = uniqueName('it-group');
    const seenBy = { a: new Set<string>(), b: new Set<string>() };
    const start = async (name: 'a' | 'b') => {
      return consumeFromStart(client, topic, {
        groupId,
        logger: testLogger.child({ member: name }),
        handler: async (e) => void seenBy[name].add(e.id),
      });
    };
    const a = await start('a');
    cleanups.track(a);
    await a.ready;
    const b = await start('b');
    let bStopped = false;
    cleanups.defer(() => (bStopped ? Promise.resolve() : b.stop()));
    await b.ready;
    // Member a learns of the rebalance at its next heartbeat; until then its old assignment shows.
    const split = () => [...partitionsOf(a, topic), ...partitionsOf(b, topic)].sort((x, y) => x - y);
    await eventually(
      () => split().length === 6 && partitionsOf(b, topic).length > 0 && partitionsOf(a, topic).length > 0,
      'partitions split between both members',
    );
    expect(split()).toEqual([0, 1, 2, 3, 4, 5]);

    const tenants = Array.from({ length: 24 }, (_, i) => `school-${i}`);
    const firstWave = pings(48, tenants, uniqueName('wave1'));
    await producer.publish(topic, firstWave);
    const all = () => new Set([...seenBy.a, ...seenBy.b]);
    await eventually(() => firstWave.every((e) => all().has(e.id)), 'first wave consumed');
    expect(seenBy.a.size).toBeGreaterThan(0);
    expect(seenBy.b.size).toBeGreaterThan(0);

    await b.stop();
    bStopped = true;
    await eventually(() => partitionsOf(a, topic).length === 6, 'survivor owns all partitions');

    const secondWave = pings(48, tenants, uniqueName('wave2'));
    await producer.publish(topic, secondWave);
    await eventually(
      () => secondWave.every((e) => seenBy.a.has(e.id)),
      'second wave consumed by the survivor',
    );
    expect([...firstWave, ...secondWave].filter((e) => !all().has(e.id))).toEqual([]);
  });
});
