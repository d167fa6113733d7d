/**
 * Baselines for the end-to-end benchmarks: the raw cost of moving the same bytes without the
 * system's logic — a plain HTTP fetch of the iSAMS document, a bare produce (libs/kafka's raw producer) of the same
 * number and size of messages, a bare `insertMany` of the same number of documents.
 */
import { randomBytes } from 'node:crypto';
import { createKafkaClient, createRawProducer, deleteTopics, ensureTopics } from '@isams-sync/kafka';
import { createLogger } from '@isams-sync/logger';
import { MongoClient } from 'mongodb';

/** The simulator's (or iSAMS's) Batch API URL for a key. */
export function batchUrl(baseUrl: string, apiKey: string, format: 'xml' | 'json' = 'xml'): string {
  return `${baseUrl.replace(/\/+$/, '')}/api/batch/1.0/${format}.ashx?apiKey=${encodeURIComponent(apiKey)}`;
}

/** Fetches the whole document with plain `fetch`; returns its text and the time taken. */
export async function plainFetch(url: string): Promise<{ seconds: number; text: string }> {
  const started = performance.now();
  const res = await fetch(url);
  if (!res.ok) throw new Error(`plain fetch: HTTP ${res.status}`);
  const text = await res.text();
  return { seconds: (performance.now() - started) / 1000, text };
}

/** Produces `messages` messages of `bytesEach` bytes (acks=all, idempotent, 4 per request). */
export async function bareProduce(
  brokers: string[],
  topic: string,
  messages: number,
  bytesEach: number,
): Promise<{ seconds: number }> {
  const client = createKafkaClient({
    clientId: 'bench-baseline',
    brokers,
    logger: createLogger({ service: 'bench-baseline', level: 'silent' }),
  });
  await ensureTopics(client, [
    {
      name: topic,
      partitions: 1,
      replicationFactor: 1,
      configEntries: {},
      keying: 'tenant',
      description: 'baseline',
    },
  ]);
  const producer = createRawProducer(client);
  await producer.connect();
  const value = Buffer.alloc(bytesEach, 120);
  const started = performance.now();
  try {
    for (let i = 0; i < messages; i += 4) {
      const n = Math.min(4, messages - i);
      await producer.send(
        topic,
        Array.from({ length: n }, () => ({ key: 'bench-school', value })),
      );
    }
    return { seconds: (performance.now() - started) / 1000 };
  } finally {
    await producer.disconnect();
    await deleteTopics(client, [topic]).catch(() => undefined);
  }
}

interface RecordDoc {
  _id: string;
  tenantId: string;
  data: string;
}

/** Inserts `count` documents of about `bytesEach` bytes with unordered `insertMany` batches of 1,000. */
export async function bareInsert(
  mongoUrl: string,
  count: number,
  bytesEach: number,
): Promise<{ seconds: number }> {
  const client = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 10_000 });
  await client.connect();
  const db = client.db(`bench_baseline_${randomBytes(4).toString('hex')}`);
  const payload = 'x'.repeat(Math.max(1, bytesEach - 60));
  const started = performance.now();
  try {
    for (let i = 0; i < count; i += 1000) {
      const n = Math.min(1000, count - i);
      await db.collection<RecordDoc>('records').insertMany(
        Array.from({ length: n }, (_, j) => ({ _id: `r${i + j}`, tenantId: 'bench', data: payload })),
        { ordered: false },
      );
    }
    return { seconds: (performance.now() - started) / 1000 };
  } finally {
    await db.dropDatabase().catch(() => undefined);
    await client.close();
  }
}
