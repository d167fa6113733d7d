/**
 * Baselines for the end-to-end benchmarks: the raw cost of moving the same bytes without the
 * system's logic — a plain HTTP fetch of the iSAMS document (and the same fetched and stream-parsed),
 * a bare produce (libs/kafka's raw producer) of the same number and size of messages or of the very
 * records a service published, a bare `insertMany` of the same number of documents, and the changed
 * documents of a resync written bare among the school's stored ones.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { streamBatchDocument } from '@isams-sync/isams';
import {
  createKafkaClient,
  createRawProducer,
  deleteTopics,
  ensureTopics,
  readTopic,
  type RawProducer,
} from '@isams-sync/kafka';
import { createLogger } from '@isams-sync/logger';
import { MongoClient, type Document } from 'mongodb';
import { startCpuMeter } from './process-memory';

/**
 * What a bare step took: its wall time, and the CPU the whole machine used meanwhile (core-seconds,
 * every process: this one, Kafka, the database; absent where `/proc/stat` cannot be read). A floor's
 * CPU is the sum of its steps': what the work done bare costs the machine.
 */
export interface StepCost {
  seconds: number;
  cpuSeconds?: number;
}

/** Starts timing a step; the returned function ends it ({@link StepCost}). */
function stepTimer(): () => StepCost {
  const cpu = startCpuMeter({});
  const started = performance.now();
  return () => {
    const seconds = (performance.now() - started) / 1000;
    const use = cpu.stop();
    return use === undefined ? { seconds } : { seconds, cpuSeconds: use.machineSeconds };
  };
}

/** The simulator's (or iSAMS's) Batch API URL for a key. */
export function batchUrl(baseUrl: string, apiKey: string, format: 'xml' | 'json' = 'xml'): string {
  return `${baseUrl.replace(/\/+$/, '')}/api/batch/1.0/${format}.ashx?apiKey=${encodeURIComponent(apiKey)}`;
}

/** Fetches the whole document with plain `fetch`; returns its text and the time taken. */
export async function plainFetch(url: string): Promise<StepCost & { text: string }> {
  const done = stepTimer();
  const res = await fetch(url);
  if (!res.ok) throw new Error(`plain fetch: HTTP ${res.status}`);
  const text = await res.text();
  return { ...done(), text };
}

/**
 * The document fetched and stream-parsed by libs/isams, its records only counted (no canonical JSON,
 * fingerprint, spool or publish): the least any sync does with a Batch API document, which has no delta.
 */
export async function fetchParse(url: string): Promise<StepCost & { records: number; bytes: number }> {
  const done = stepTimer();
  const res = await fetch(url);
  if (!res.ok || !res.body) throw new Error(`baseline fetch: HTTP ${res.status}`);
  let bytes = 0;
  let records = 0;
  const body = Readable.fromWeb(res.body as unknown as NodeReadableStream<Uint8Array>);
  const counted = (async function* () {
    for await (const chunk of body) {
      bytes += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
  })();
  for await (const e of streamBatchDocument(counted, { format: 'xml' })) if (e.type === 'record') records++;
  return { ...done(), records, bytes };
}

/** The baselines' Kafka client (its logs silent). */
const baselineClient = (brokers: string[]) =>
  createKafkaClient({
    clientId: 'bench-baseline',
    brokers,
    logger: createLogger({ service: 'bench-baseline', level: 'silent' }),
  });

/** Times `send` with a bare producer on a fresh one-partition topic (deleted afterwards). */
async function onScratchTopic(
  brokers: string[],
  topic: string,
  send: (producer: RawProducer) => Promise<void>,
): Promise<StepCost> {
  const client = baselineClient(brokers);
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
  const done = stepTimer();
  try {
    await send(producer);
    return done();
  } finally {
    await producer.disconnect();
    await deleteTopics(client, [topic]).catch(() => undefined);
  }
}

/** Produces `messages` messages of `bytesEach` bytes (acks=all, idempotent, 4 per request). */
export function bareProduce(
  brokers: string[],
  topic: string,
  messages: number,
  bytesEach: number,
): Promise<StepCost> {
  const value = Buffer.alloc(bytesEach, 120);
  return onScratchTopic(brokers, topic, async (producer) => {
    for (let i = 0; i < messages; i += 4) {
      const n = Math.min(4, messages - i);
      await producer.send(
        topic,
        Array.from({ length: n }, () => ({ key: 'bench-school', value })),
      );
    }
  });
}

/** A record as a service published it, kept to be produced again (value and headers as UTF-8 text). */
export interface PublishedRecord {
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

/** Every record of `topics`, from the beginning, as {@link PublishedRecord}s. */
export async function readPublished(
  brokers: string[],
  topics: readonly string[],
): Promise<PublishedRecord[]> {
  const client = baselineClient(brokers);
  const out: PublishedRecord[] = [];
  for (const topic of topics)
    for (const r of await readTopic(client, topic, { timeoutMs: 120_000 }))
      out.push({
        key: r.key === null ? null : r.key.toString('utf8'),
        value: r.value === null ? null : r.value.toString('utf8'),
        headers: Object.fromEntries(
          Object.entries(r.headers).map(([k, v]) => [k, String(Array.isArray(v) ? v[0] : v)]),
        ),
      });
  return out;
}

/**
 * Produces `records` again as they are (key, value, headers), `perRequest` to a request, one request
 * at a time (acks=all, idempotent): the floor of publishing what a service published.
 */
export function bareReproduce(
  brokers: string[],
  topic: string,
  records: readonly PublishedRecord[],
  perRequest = 500,
): Promise<StepCost> {
  return onScratchTopic(brokers, topic, async (producer) => {
    for (let i = 0; i < records.length; i += perRequest)
      await producer.send(topic, records.slice(i, i + perRequest));
  });
}

interface RecordDoc {
  _id: string;
  tenantId: string;
  data: string;
}

/** Inserts `count` documents of about `bytesEach` bytes with unordered `insertMany` batches of 1,000. */
export async function bareInsert(mongoUrl: string, count: number, bytesEach: number): Promise<StepCost> {
  const client = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 10_000 });
  await client.connect();
  const db = client.db(`bench_baseline_${randomBytes(4).toString('hex')}`);
  const payload = 'x'.repeat(Math.max(1, bytesEach - 60));
  const done = stepTimer();
  try {
    for (let i = 0; i < count; i += 1000) {
      const n = Math.min(1000, count - i);
      await db.collection<RecordDoc>('records').insertMany(
        Array.from({ length: n }, (_, j) => ({ _id: `r${i + j}`, tenantId: 'bench', data: payload })),
        { ordered: false },
      );
    }
    return done();
  } finally {
    await db.dropDatabase().catch(() => undefined);
    await client.close();
  }
}

/** The documents of a collection matching `filter`, read with the bare driver (e.g. a service's stored entities). */
export async function readDocuments(
  mongoUrl: string,
  dbName: string,
  collection: string,
  filter: Document = {},
): Promise<Document[]> {
  const client = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 10_000 });
  await client.connect();
  try {
    return await client.db(dbName).collection(collection).find(filter).toArray();
  } finally {
    await client.close();
  }
}

/** How {@link bareWriteDocuments} writes: what the roster uses (FerretDB/PostgreSQL runs writers side by side). */
export const BARE_WRITES = { inFlight: 4, insertsPerCommand: 50, replacesPerCommand: 20 } as const;

/**
 * Given documents written bare, as any store of them must write them: into a fresh collection with
 * the `indexes` given (created first) and the `stored` documents (inserted first, untimed), the
 * `inserted` ones by `insertMany` and the `replaced` ones by `replaceOne` on `_id` (each must be
 * one of `stored`'s ids: one that is not fails), {@link BARE_WRITES}. Only those writes are timed. With the
 * service's own stored documents this is the database's share of its writes: on FerretDB a
 * document's cost grows with its fields, not only its bytes.
 */
export async function bareWriteDocuments(
  mongoUrl: string,
  {
    indexes = [],
    stored = [],
    inserted = [],
    replaced = [],
  }: {
    indexes?: Array<{ key: Record<string, 1 | -1>; unique?: boolean }>;
    stored?: Document[];
    inserted?: Document[];
    replaced?: Document[];
  },
): Promise<StepCost> {
  const client = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 10_000 });
  await client.connect();
  const db = client.db(`bench_baseline_${randomBytes(4).toString('hex')}`);
  const docs = db.collection<Document>('documents');
  const inCommands = async <T>(list: T[], size: number, write: (part: T[]) => Promise<unknown>) => {
    const commands: T[][] = [];
    for (let i = 0; i < list.length; i += size) commands.push(list.slice(i, i + size));
    await Promise.all(
      Array.from({ length: BARE_WRITES.inFlight }, async () => {
        for (let part = commands.shift(); part !== undefined; part = commands.shift()) await write(part);
      }),
    );
  };
  try {
    await db.createCollection('documents');
    for (const { key, unique } of indexes) await docs.createIndex(key, { unique: unique ?? false });
    await inCommands(stored, 1000, (part) => docs.insertMany(part, { ordered: false }));
    const done = stepTimer();
    await inCommands(inserted, BARE_WRITES.insertsPerCommand, (part) =>
      docs.insertMany(part, { ordered: false }),
    );
    await inCommands(replaced, BARE_WRITES.replacesPerCommand, async (part) => {
      const { matchedCount } = await docs.bulkWrite(
        part.map((d) => ({ replaceOne: { filter: { _id: d._id }, replacement: d } })),
        { ordered: false },
      );
      // A replace that matched nothing wrote nothing: the floor would leave out its cost.
      if (matchedCount !== part.length)
        throw new Error(`bare replace: ${part.length - matchedCount} of ${part.length} ids not stored`);
    });
    return done();
  } finally {
    await db.dropDatabase().catch(() => undefined);
    await client.close();
  }
}
