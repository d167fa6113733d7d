import { describe, expect, it } from 'vitest';
import { uniqueName } from '@isams-sync/testing';
import { consumerGroupLag } from '../src/index';
import { kafkajsOf, withAdmin } from '../src/kafka-client';
import { freshTopic, testClient, useCleanups } from './support/kafka-test-kit';

const cleanups = useCleanups();

describe('consumerGroupLag (real Kafka)', () => {
  it('sums end offsets minus committed offsets over the partitions; an uncommitted partition counts from where the consumer would start', async () => {
    const client = testClient();
    const { topic } = await freshTopic(client, 2);
    const { topic: other } = await freshTopic(client, 1);
    const producer = kafkajsOf(client).producer();
    await producer.connect();
    cleanups.defer(() => producer.disconnect());
    const records = (n: number, partition: number) =>
      Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: `v${i}`, partition }));
    await producer.send({ topic, acks: -1, messages: [...records(5, 0), ...records(3, 1)] });
    await producer.send({ topic: other, acks: -1, messages: records(4, 0) });
    const groupId = uniqueName('lag-group');

    // Nothing committed yet: for a group that starts from the beginning everything stored is
    // behind; one that starts at the end (the default) is behind on nothing.
    expect(await consumerGroupLag(client, groupId, [topic, other], { fromBeginning: true })).toEqual([
      { topic, lag: 8 },
      { topic: other, lag: 4 },
    ]);
    expect(await consumerGroupLag(client, groupId, [topic, other], { fromBeginning: false })).toEqual([
      { topic, lag: 0 },
      { topic: other, lag: 0 },
    ]);
    // Committed 3 of partition 0's 5 and all of partition 1's 3: 2 behind.
    await withAdmin(client, (admin) =>
      admin.setOffsets({
        groupId,
        topic,
        partitions: [
          { partition: 0, offset: '3' },
          { partition: 1, offset: '3' },
        ],
      }),
    );
    for (const fromBeginning of [true, false])
      expect(await consumerGroupLag(client, groupId, [topic], { fromBeginning })).toEqual([
        { topic, lag: 2 },
      ]);
  });

  it('fails with KAFKA_UNAVAILABLE when no broker answers', async () => {
    const client = testClient({
      brokers: ['127.0.0.1:1'],
      connectionTimeoutMs: 500,
      requestTimeoutMs: 1000,
      retry: { retries: 1, initialRetryTimeMs: 100, maxRetryTimeMs: 200 },
    });
    await expect(consumerGroupLag(client, 'g', ['t'], { fromBeginning: true })).rejects.toMatchObject({
      code: 'KAFKA_UNAVAILABLE',
    });
  });
});
