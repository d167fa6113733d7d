import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { eventually, uniqueName } from '@isams-sync/testing';
import { describe, expect, it } from 'vitest';
import { AppError } from '@isams-sync/errors';
import { DLQ_HEADERS, headerValue, topicOffsets } from '../src/index';
import { parseFromOffset } from '../src/dlq-replay';
import { pings, readRaw, useCleanups } from './support/kafka-test-kit';

const repoRoot = resolve(import.meta.dirname, '../../..');
const cleanups = useCleanups();

/** The operators' command, as they run it: `npm run dlq -- …`. */
function dlqCli(brokers: readonly string[], ...args: string[]): { status: number | null; out: string } {
  const res = spawnSync('npm', ['run', '-s', 'dlq', '--', ...args], {
    cwd: repoRoot,
    env: { ...process.env, KAFKA_BROKERS: brokers.join(','), LOG_LEVEL: 'silent' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: res.status, out: `${res.stdout}${res.stderr}` };
}

describe('dead-letter replay (npm run dlq)', () => {
  it('lists, dry-runs and replays a dead letter to its original topic, where it is processed once', async () => {
    const { client, topic, dlq, producer } = await cleanups.freshTopicAndProducer(3);
    const [target, other, plain] = pings(3, ['school-r'], uniqueName('run'));
    const group = uniqueName('it-group');
    const otherGroup = uniqueName('it-other');
    // This release does not know the target's schema yet; after the upgrade it does.
    let upgraded = false;
    const deliveries = new Map<string, number>();
    const effects = new Map<string, number>();
    cleanups.consumeFromStart(client, topic, {
      groupId: group,
      handler: async (event) => {
        deliveries.set(event.id, (deliveries.get(event.id) ?? 0) + 1);
        if (event.id === target!.id && !upgraded)
          throw new AppError({
            code: 'EVENT_TYPE_UNKNOWN',
            kind: 'invalid_argument',
            message: 'unknown schema',
          });
        // Idempotent: one effect per event id, however often it arrives.
        if (!effects.has(event.id)) effects.set(event.id, 1);
      },
    });
    // Another group of the same topic gives up on another event.
    cleanups.consumeFromStart(client, topic, {
      groupId: otherGroup,
      handler: async (event) => {
        if (event.id === other!.id)
          throw new AppError({ code: 'TEST_REJECTED', kind: 'failed_precondition', message: 'rejected' });
      },
    });
    await producer.publish(topic, [target!, other!, plain!]);
    const dead = await readRaw(client, dlq, 2);
    expect(dead.map((r) => headerValue(r.headers, 'ce_id')).sort()).toEqual([target!.id, other!.id].sort());
    await eventually(() => effects.has(plain!.id), 'the plain event handled');
    const original = (await readRaw(client, topic, 3)).find(
      (r) => headerValue(r.headers, 'ce_id') === target!.id,
    )!;

    // list: everything, one group, from an offset.
    const all = dlqCli(client.brokers, 'list', '--topic', dlq);
    expect(all.status, all.out).toBe(0);
    expect(all.out).toContain(`2 dead letter(s) in ${dlq}`);
    const mine = dlqCli(client.brokers, 'list', '--topic', dlq, '--group', group);
    expect(mine.out).toContain(`1 dead letter(s) in ${dlq} of group ${group}`);
    expect(mine.out).toContain(target!.id);
    expect(mine.out).toContain('EVENT_TYPE_UNKNOWN');
    expect(mine.out).not.toContain(other!.id);
    expect(dlqCli(client.brokers, 'list', '--topic', dlq, '--from-offset', '1').out).toContain(
      '1 dead letter(s)',
    );

    // A dry run publishes nothing.
    const before = await topicOffsets(client, topic);
    const dry = dlqCli(client.brokers, 'replay', '--topic', dlq, '--group', group, '--dry-run');
    expect(dry.status, dry.out).toBe(0);
    expect(dry.out).toContain('dry run: 1 dead letter(s) would be replayed; nothing published');
    expect(await topicOffsets(client, topic)).toEqual(before);

    // After the upgrade, the replay: back on the original topic and partition, processed once.
    upgraded = true;
    const replay = dlqCli(client.brokers, 'replay', '--topic', dlq, '--group', group);
    expect(replay.status, replay.out).toBe(0);
    expect(replay.out).toContain('replayed 1/1');
    expect(replay.out).toContain('1 dead letter(s) replayed');
    await eventually(() => effects.get(target!.id) === 1, 'the replayed event handled');
    const copies = (await readRaw(client, topic, 4)).filter(
      (r) => headerValue(r.headers, 'ce_id') === target!.id,
    );
    expect(copies).toHaveLength(2);
    const replayed = copies[1]!;
    expect(replayed.partition).toBe(original.partition);
    expect(replayed.key?.toString()).toBe(original.key?.toString());
    expect(replayed.value?.toString()).toBe(original.value?.toString());
    expect(Object.keys(replayed.headers).sort()).toEqual(Object.keys(original.headers).sort());
    expect(Object.keys(replayed.headers).some((h) => h.startsWith('x-dlq-'))).toBe(false);

    // Replaying again is harmless: delivered again, de-duplicated by id, no second effect.
    const deliveredBefore = deliveries.get(target!.id)!;
    expect(dlqCli(client.brokers, 'replay', '--topic', dlq, '--group', group).status).toBe(0);
    await eventually(() => deliveries.get(target!.id)! > deliveredBefore, 'the second replay delivered');
    expect(effects.get(target!.id)).toBe(1);
    // The other group's dead letter was not replayed.
    const others = (await readRaw(client, topic, 5)).filter(
      (r) => headerValue(r.headers, 'ce_id') === other!.id,
    );
    expect(others).toHaveLength(1);
    expect(
      headerValue(
        dead.find((r) => headerValue(r.headers, 'ce_id') === other!.id)!.headers,
        DLQ_HEADERS.consumerGroup,
      ),
    ).toBe(otherGroup);
  }, 240_000);

  it('rejects bad arguments with exit code 2 and a usage line', () => {
    const res = dlqCli(['127.0.0.1:1'], 'replay', '--topic', 'roster.changes.v1');
    expect(res.status).toBe(2);
    expect(res.out).toContain('must be a dead-letter topic');
    const none = dlqCli(['127.0.0.1:1'], 'purge', '--topic', 'x.dlq');
    expect(none.status).toBe(2);
    expect(none.out).toContain('usage: dlq list|replay');
  });

  it('names a dead-letter topic that does not exist, with exit code 2, instead of reporting Kafka down', async () => {
    const { client } = await cleanups.freshTopicAndProducer(1);
    const missing = `${uniqueName('no-such-topic')}.dlq`;
    const res = dlqCli(client.brokers, 'list', '--topic', missing);
    expect(res.status).toBe(2);
    expect(res.out).toContain(`KAFKA_TOPIC_NOT_FOUND: Kafka topic ${missing} does not exist`);
    expect(res.out).not.toContain('KAFKA_UNAVAILABLE');
  }, 120_000);

  it('parses --from-offset as one offset or per partition', () => {
    expect(parseFromOffset('12')).toBe('12');
    expect(parseFromOffset('0:12,2:40')).toEqual({ 0: '12', 2: '40' });
    expect(() => parseFromOffset('a:1')).toThrow(/--from-offset/);
  });
});
