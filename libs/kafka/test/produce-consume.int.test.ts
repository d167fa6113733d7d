import { eventually, uniqueName } from '@isams-sync/testing';
import { describe, expect, it } from 'vitest';
import type { CloudEvent } from '@isams-sync/events';
import { ensureTopics, isTopicNotReadyError, runConsumer, tailTopic, topicOffsets } from '../src/index';
import {
  committedOffsets,
  FAST_GROUP,
  freshTopic,
  pings,
  readRaw,
  testClient,
  testLogger,
  useCleanups,
} from './support/kafka-test-kit';

const cleanups = useCleanups();

describe('produce → consume (binary mode): the records on the wire', () => {
  it('round-trips events with ce_ headers, tenant keys and per-tenant order', async () => {
    const { client, topic, producer } = await cleanups.freshTopicAndProducer(3);
    const events = pings(12, ['school-a', 'school-b', 'school-c']);
    const result = await producer.publish(topic, events);
    expect(result.count).toBe(12);

    const raw = await readRaw(client, topic, 12);
    const first = raw.find((m) => m.headers?.ce_id?.toString() === events[0]!.id)!;
    expect(first.key?.toString()).toBe('school-a');
    expect(JSON.parse(first.value!.toString())).toEqual(events[0]!.data);
    expect(Object.fromEntries(Object.entries(first.headers!).map(([k, v]) => [k, v!.toString()]))).toEqual({
      ce_specversion: '1.0',
      ce_id: events[0]!.id,
      ce_source: '/isams-sync/platform',
      ce_type: 'com.schoolcloud.isams-sync.platform.ping.v1',
      ce_time: events[0]!.time,
      ce_subject: 'ping-0',
      ce_tenantid: 'school-a',
      ce_syncrunid: events[0]!.syncrunid,
      ce_dataschema: events[0]!.dataschema,
      'content-type': 'application/json',
    });

    const received: CloudEvent[] = [];
    const groupId = uniqueName('it-group');
    const consumer = cleanups.consumeFromStart(client, topic, {
      groupId,
      handler: async (event) => void received.push(event),
    });
    await consumer.ready;
    await eventually(() => received.length >= 12, '12 events');
    expect(new Map(received.map((e) => [e.id, e]))).toEqual(new Map(events.map((e) => [e.id, e])));
    for (const tenant of ['school-a', 'school-b', 'school-c']) {
      const seq = received
        .filter((e) => e.tenantid === tenant)
        .map((e) => (e.data as { sequence: number }).sequence);
      expect(seq).toEqual([...seq].sort((a, b) => a - b));
    }
    // One tenant = one partition.
    for (const tenant of ['school-a', 'school-b', 'school-c']) {
      expect(new Set(raw.filter((m) => m.key?.toString() === tenant).map((m) => m.partition)).size).toBe(1);
    }
    await eventually(async () => {
      const offsets = await committedOffsets(client, groupId, topic);
      return Object.values(offsets).reduce((sum, o) => sum + Math.max(0, Number(o)), 0) === 12;
    }, 'offsets committed');
  });

  it('uses an idempotent producer: records carry a producer id and sequences, no duplicates', async () => {
    const client = testClient();
    const { topic } = await freshTopic(client, 1);
    const producer = cleanups.producer(client, { maxBatchSize: 7 });
    const events = pings(30, ['school-x']);
    const result = await producer.publish(topic, events);
    expect(result.partitions.length).toBe(5); // 30 records in batches of 7
    const raw = await readRaw(client, topic, 30);
    expect(new Set(raw.map((m) => m.producerId)).size).toBe(1);
    expect(Number(raw[0]!.producerId)).toBeGreaterThanOrEqual(0); // -1 = not idempotent
    expect(raw.map((m) => m.batchFirstSequence)).toEqual(raw.map((_, i) => Math.floor(i / 7) * 7));
    expect(raw.map((m) => m.headers!.ce_id!.toString())).toEqual(events.map((e) => e.id));
  });
});

describe('produce → consume (binary mode): pausing, stopping and committing', () => {
  it('pauses and resumes fetching', async () => {
    const { client, topic, producer } = await cleanups.freshTopicAndProducer(1);
    const received: CloudEvent[] = [];
    const consumer = cleanups.track(
      runConsumer({
        client,
        groupId: uniqueName('it-group'),
        topics: [topic],
        logger: testLogger,
        ...FAST_GROUP,
        handler: async (e) => void received.push(e),
      }),
    );
    await consumer.ready;
    await producer.publish(topic, pings(1, ['school-p'], 'before-pause'));
    await eventually(() => received.length === 1, 'first event');

    consumer.pause();
    await producer.publish(topic, pings(3, ['school-p'], 'while-paused'));
    // No timing claim: just long enough for several fetch cycles had the consumer been fetching.
    await new Promise((r) => setTimeout(r, 2000));
    expect(received).toHaveLength(1);

    consumer.resume();
    await eventually(() => received.length === 4, 'events after resume');
  });

  it('finishes and commits the in-flight message on stop', async () => {
    const { client, topic, producer } = await cleanups.freshTopicAndProducer(1);
    const groupId = uniqueName('it-group');
    let started = false;
    let finished = false;
    const consumer = runConsumer({
      client,
      groupId,
      topics: [topic],
      logger: testLogger,
      ...FAST_GROUP,
      handler: async () => {
        started = true;
        await new Promise((r) => setTimeout(r, 1500));
        finished = true;
      },
    });
    await consumer.ready;
    await producer.publish(topic, pings(1, ['school-s']));
    await eventually(() => started, 'handler start');
    await consumer.stop();
    expect(finished).toBe(true);
    expect((await committedOffsets(client, groupId, topic))[0]).toBe('1');
  });

  it('commits handled offsets every commitBatchSize messages, and the rest at the end of the batch', async () => {
    const { client, topic, producer } = await cleanups.freshTopicAndProducer(1);
    const events = pings(300, ['school-a']);
    for (let i = 0; i < events.length; i += 100) await producer.publish(topic, events.slice(i, i + 100));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let handled = 0;
    const groupId = uniqueName('it-batched');
    cleanups.consumeFromStart(client, topic, {
      groupId,
      commitBatchSize: 50,
      commitIntervalMs: 600_000,
      handler: async () => {
        if (handled === 150) await gate;
        handled += 1;
      },
    });
    const committed = async () => Number((await committedOffsets(client, groupId, topic))[0] ?? -1);
    await eventually(async () => handled === 150 && (await committed()) === 150, '150 handled and committed');
    // Held at the 151st message: exactly the first 150 are committed, nothing beyond.
    expect(await committed()).toBe(150);
    release();
    await eventually(async () => (await committed()) === 300, 'all 300 committed');
    expect(handled).toBe(300);
  });
});

describe('produce → consume (binary mode): a topic that is not ready yet', () => {
  it('a consumer started before its topic exists subscribes once the topic is created, and consumes it', async () => {
    const client = testClient();
    const topic = uniqueName('it-late-topic');
    const received: CloudEvent[] = [];
    const consumer = cleanups.consumeFromStart(client, topic, {
      groupId: uniqueName('it-late'),
      handler: async (event) => void received.push(event),
    });
    let joined = false;
    void consumer.ready.then(() => (joined = true));
    // The first subscribe attempts fail with UNKNOWN_TOPIC_OR_PARTITION while the topic is absent.
    await new Promise((r) => setTimeout(r, 1500));
    expect(joined).toBe(false);
    await ensureTopics(client, [
      { name: topic, partitions: 2, configEntries: {}, keying: 'tenant', description: 'test' },
    ]);
    await consumer.ready;
    const producer = cleanups.producer(client);
    const events = pings(4, ['school-a', 'school-b']);
    await producer.publish(topic, events);
    await eventually(() => received.length >= 4, '4 events');
    expect(received.map((e) => e.id).sort()).toEqual(events.map((e) => e.id).sort());
  });

  it('isTopicNotReadyError recognises kafkajs topic-metadata errors, wrapped or not, and nothing else', () => {
    const protocol = Object.assign(new Error('This server does not host this topic-partition'), {
      type: 'UNKNOWN_TOPIC_OR_PARTITION',
    });
    const wrapped = Object.assign(new Error('Number of retries exceeded'), { originalError: protocol });
    expect(isTopicNotReadyError(protocol)).toBe(true);
    expect(isTopicNotReadyError(wrapped)).toBe(true);
    expect(isTopicNotReadyError(Object.assign(new Error('x'), { type: 'LEADER_NOT_AVAILABLE' }))).toBe(true);
    // A broker that just started has no group coordinator yet (seen on a fresh private broker).
    const noCoordinator = Object.assign(new Error('Failed to find group coordinator'), {
      name: 'KafkaJSGroupCoordinatorNotFound',
    });
    expect(isTopicNotReadyError(noCoordinator)).toBe(true);
    expect(isTopicNotReadyError(new Error('SASL authentication failed'))).toBe(false);
    expect(isTopicNotReadyError(Object.assign(new Error('x'), { type: 'TOPIC_AUTHORIZATION_FAILED' }))).toBe(
      false,
    );
  });
});

describe('tailTopic fromOffsets', () => {
  it('starts each listed partition at the given offset (the reference subscriber follows from captured end offsets)', async () => {
    const { client, topic, producer } = await cleanups.freshTopicAndProducer(1);
    await producer.publish(topic, pings(3, ['school-a']));
    const [ends] = await topicOffsets(client, topic);
    expect(ends!.high).toBe('3');
    await producer.publish(topic, pings(2, ['school-b']));
    const seen: string[] = [];
    const tail = tailTopic(
      client,
      topic,
      (rs) => void seen.push(...rs.map((r) => `${r.offset}:${r.key?.toString()}`)),
      {
        fromOffsets: { 0: ends!.high },
      },
    );
    cleanups.track(tail);
    await tail.ready;
    await eventually(() => seen.length >= 2, 'two records from offset 3');
    expect(seen).toEqual(['3:school-b', '4:school-b']);
  });
});
