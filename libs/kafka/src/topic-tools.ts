import { randomUUID } from 'node:crypto';
import type { Consumer, Producer } from 'kafkajs';
import type { RawRecord } from './event-producer';
import { kafkajsOf, withAdmin } from './kafka-client';
import type { KafkaClient } from './kafka-client';
import { KafkaErrors, reasonOf } from './kafka-errors';
import { readySignal } from './ready-signal';

/** A record as stored in a topic (what tests, tools and the DLQ replay read). */
export interface TopicRecord {
  topic: string;
  partition: number;
  offset: string;
  /** Broker timestamp, ms since the epoch, as a string. */
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  /** Header values as received; {@link headerValue} reads one as a string. */
  headers: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
  /** The producer id of the record's batch (`'-1'`: not written by an idempotent producer). */
  producerId: string;
  /** The sequence number of the first record of the record's batch (idempotent producers). */
  batchFirstSequence: number;
}

// Record-batch header fields that kafkajs keeps on each message (not in its typings).
type WithBatchContext = { batchContext?: { producerId?: unknown; firstSequence?: unknown } };

/** The offsets of one partition: `low` is the first stored record, `high` the next to be written. */
export interface PartitionOffsets {
  partition: number;
  low: string;
  high: string;
}

/**
 * The first and next offsets of every partition of `topic` (`high - low` records are stored).
 * A topic the cluster does not list fails at once (kafkajs would retry it as a broker error).
 * @throws AppError `KAFKA_TOPIC_NOT_FOUND`, `KAFKA_UNAVAILABLE`
 */
export async function topicOffsets(client: KafkaClient, topic: string): Promise<PartitionOffsets[]> {
  try {
    return await withAdmin(client, async (admin) => {
      if (!(await admin.listTopics()).includes(topic)) throw KafkaErrors.KAFKA_TOPIC_NOT_FOUND({ topic });
      return (await admin.fetchTopicOffsets(topic))
        .map((o) => ({ partition: o.partition, low: o.low, high: o.high }))
        .sort((a, b) => a.partition - b.partition);
    });
  } catch (err) {
    if (KafkaErrors.KAFKA_TOPIC_NOT_FOUND.is(err)) throw err;
    throw KafkaErrors.KAFKA_UNAVAILABLE({ operation: 'topicOffsets', reason: reasonOf(err) }, { cause: err });
  }
}

/**
 * The offsets `groupId` has committed on each partition of `topic` (`'-1'` = none yet).
 * @throws AppError `KAFKA_UNAVAILABLE`
 */
export async function groupOffsets(
  client: KafkaClient,
  groupId: string,
  topic: string,
): Promise<Record<number, string>> {
  try {
    return await withAdmin(client, async (admin) => {
      const [result] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return Object.fromEntries((result?.partitions ?? []).map((p) => [p.partition, p.offset]));
    });
  } catch (err) {
    throw KafkaErrors.KAFKA_UNAVAILABLE({ operation: 'groupOffsets', reason: reasonOf(err) }, { cause: err });
  }
}

/** One topic's lag of a consumer group (see {@link consumerGroupLag}). */
export interface TopicLag {
  topic: string;
  /** Messages behind, summed over the topic's partitions. */
  lag: number;
}

/**
 * How far `groupId` is behind on each of `topics`: per partition, the end offset minus the group's
 * committed offset (never below 0), summed over the partitions. A partition without a commit is
 * read as the group's consumer would start it: from its first stored record with `fromBeginning`
 * (all of it is behind), else at its end (nothing is). One admin connection for all of it. For
 * metrics (`isams_sync_consumer_lag_messages`).
 * @throws AppError `KAFKA_UNAVAILABLE`
 */
export async function consumerGroupLag(
  client: KafkaClient,
  groupId: string,
  topics: readonly string[],
  options: { fromBeginning: boolean },
): Promise<TopicLag[]> {
  try {
    return await withAdmin(client, async (admin) => {
      const committed = await admin.fetchOffsets({ groupId, topics: [...topics] });
      const out: TopicLag[] = [];
      for (const topic of topics) {
        const ends = await admin.fetchTopicOffsets(topic);
        const done = new Map(
          (committed.find((c) => c.topic === topic)?.partitions ?? []).map((p) => [
            p.partition,
            Number(p.offset),
          ]),
        );
        let lag = 0;
        for (const o of ends) {
          const high = Number(o.high);
          const low = Number(o.low);
          const at = done.get(o.partition);
          const from = at === undefined || at < 0 ? (options.fromBeginning ? low : high) : at;
          lag += Math.max(0, high - Math.max(from, low));
        }
        out.push({ topic, lag });
      }
      return out;
    });
  } catch (err) {
    throw KafkaErrors.KAFKA_UNAVAILABLE(
      { operation: 'consumerGroupLag', reason: reasonOf(err) },
      { cause: err },
    );
  }
}

/** Options of {@link tailTopic}. */
export interface TailTopicOptions {
  /** From the first stored record (default true) or only records written after joining. */
  fromBeginning?: boolean;
  /**
   * Start each listed partition at this offset (e.g. end offsets captured earlier with
   * {@link topicOffsets}); partitions not listed follow `fromBeginning`. After a reconnect the reader
   * starts there again (it re-reads; readers de-duplicate).
   */
  fromOffsets?: Readonly<Record<number, string>>;
}

/** A running {@link tailTopic} reader. */
export interface TopicTail {
  /** Resolves once the reader has joined (its partitions are assigned). */
  ready: Promise<void>;
  /** Stops reading and removes the reader's throwaway consumer group. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Reads `topic` as an observer — for tests, tools and dashboards, never for processing (no
 * CloudEvents decoding, no retries, no DLQ: use `runConsumer` for that). `onRecords` gets each
 * fetched batch of one partition, in offset order. The reader uses a throwaway consumer group;
 * after a broker restart its client reconnects and it goes on, possibly re-reading some records.
 */
export function tailTopic(
  client: KafkaClient,
  topic: string,
  onRecords: (records: TopicRecord[]) => void | Promise<void>,
  options: TailTopicOptions = {},
): TopicTail {
  const groupId = `${client.clientId}-tail-${randomUUID()}`;
  const consumer: Consumer = kafkajsOf(client).consumer({
    groupId,
    sessionTimeout: 10_000,
    heartbeatInterval: 1000,
    allowAutoTopicCreation: false,
  });
  const ready = readySignal();
  consumer.on(consumer.events.GROUP_JOIN, () => ready.resolve());
  let stopping = false;
  const start = async (): Promise<void> => {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: options.fromBeginning ?? true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        await onRecords(
          batch.messages.map((m) => ({
            topic,
            partition: batch.partition,
            offset: m.offset,
            timestamp: m.timestamp,
            key: m.key ?? null,
            value: m.value ?? null,
            headers: { ...(m.headers ?? {}) },
            producerId: String((m as WithBatchContext).batchContext?.producerId ?? '-1'),
            batchFirstSequence: Number((m as WithBatchContext).batchContext?.firstSequence ?? -1),
          })),
        );
      },
    });
    for (const [partition, offset] of Object.entries(options.fromOffsets ?? {}))
      consumer.seek({ topic, partition: Number(partition), offset });
  };
  // kafkajs restarts a reader that crashed on a retriable error; one it gives up on (e.g.
  // KafkaJSGroupCoordinatorNotFound right after a broker restart) is started again here.
  let restarting: Promise<void> | undefined;
  consumer.on(consumer.events.CRASH, (e) => {
    if (e.payload.restart || stopping || restarting) return;
    restarting = (async () => {
      for (let attempt = 1; !stopping; attempt += 1) {
        await new Promise((r) => setTimeout(r, Math.min(10_000, 500 * 2 ** attempt)));
        if (stopping) return;
        try {
          await consumer.disconnect().catch(() => undefined);
          await start();
          return;
        } catch {
          // the broker is still away: try again
        }
      }
    })().finally(() => {
      restarting = undefined;
    });
  });
  const started = start();
  started.catch((err: unknown) =>
    ready.reject(KafkaErrors.KAFKA_CONSUMER_FAILED({ groupId, reason: reasonOf(err) }, { cause: err })),
  );
  let stopped: Promise<void> | undefined;
  return {
    ready: ready.promise,
    stop: () => {
      stopped ??= (async () => {
        stopping = true;
        await started.catch(() => undefined);
        await restarting?.catch(() => undefined);
        await consumer.disconnect().catch(() => undefined);
        ready.reject(KafkaErrors.KAFKA_CONSUMER_FAILED({ groupId, reason: 'stopped before joining' }));
        await withAdmin(client, (admin) => admin.deleteGroups([groupId])).catch(() => undefined);
      })();
      return stopped;
    },
  };
}

/** Options of {@link readTopic}. */
export interface ReadTopicOptions {
  /**
   * Keep reading, past the records stored when the call began, until this returns true (e.g. "at
   * least N records"). Without it, `readTopic` returns once it has read up to the end offsets it
   * found at the start.
   */
  until?: (records: readonly TopicRecord[]) => boolean;
  /** Give up after this long (default 30000). */
  timeoutMs?: number;
}

/**
 * Reads every record of `topic` from the beginning: up to the end offsets at the start of the call,
 * or until `options.until` is satisfied. Records are in offset order per partition.
 * @throws AppError `KAFKA_TOPIC_NOT_FOUND`, `KAFKA_UNAVAILABLE` (including when `timeoutMs` passes first)
 */
export async function readTopic(
  client: KafkaClient,
  topic: string,
  options: ReadTopicOptions = {},
): Promise<TopicRecord[]> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const ends = await topicOffsets(client, topic);
  const pending = new Map(
    ends.filter((o) => BigInt(o.high) > BigInt(o.low)).map((o) => [o.partition, BigInt(o.high) - 1n]),
  );
  const records: TopicRecord[] = [];
  const complete = (): boolean => (options.until ? options.until(records) : pending.size === 0);
  if (complete()) return records;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const tail = tailTopic(client, topic, (batch) => {
    records.push(...batch);
    for (const r of batch) {
      const last = pending.get(r.partition);
      if (last !== undefined && BigInt(r.offset) >= last) pending.delete(r.partition);
    }
    if (complete()) finish();
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      finished,
      tail.ready.then(() => finished),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              KafkaErrors.KAFKA_UNAVAILABLE({
                operation: 'readTopic',
                reason: `${topic}: ${records.length} records read in ${timeoutMs} ms, not all`,
              }),
            ),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
    await tail.stop();
  }
  return records.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
}

/** A bare producer: see {@link createRawProducer}. */
export interface RawProducer {
  connect(): Promise<void>;
  /** One produce request with acks=all; resolves when acknowledged. No splitting, no re-tries of its own. */
  send(topic: string, records: readonly RawRecord[]): Promise<void>;
  disconnect(): Promise<void>;
}

/**
 * A bare idempotent acks=all producer with the client's defaults and nothing else: no CloudEvents
 * mapping, no tenant partitioner (key hashing), no request splitting, no publish deadline. It is the
 * floor benchmarks measure the adapter against ("the same bytes, published as plainly as the client
 * allows"); services use {@link createEventProducer}.
 */
export function createRawProducer(client: KafkaClient): RawProducer {
  const producer: Producer = kafkajsOf(client).producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  return {
    connect: () => producer.connect(),
    send: async (topic, records) => {
      await producer.send({ topic, acks: -1, messages: records.map((r) => ({ ...r })) });
    },
    disconnect: () => producer.disconnect(),
  };
}
