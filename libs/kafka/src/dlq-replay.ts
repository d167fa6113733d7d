import { headerValue } from './cloudevents-binding';
import { DLQ_HEADERS } from './event-consumer';
import { createEventProducer } from './event-producer';
import type { EventProducer, RawRecord } from './event-producer';
import type { KafkaClient } from './kafka-client';
import { readTopic } from './topic-tools';
import type { TopicRecord } from './topic-tools';

/** One dead-lettered record with what its `x-dlq-*` headers say. */
export interface DeadLetter {
  /** Where it is in the dead-letter topic. */
  partition: number;
  offset: string;
  originalTopic: string | undefined;
  originalPartition: string | undefined;
  originalOffset: string | undefined;
  consumerGroup: string | undefined;
  errorCode: string | undefined;
  reason: string | undefined;
  attempts: string | undefined;
  failedAt: string | undefined;
  /** CloudEvent attributes from the `ce_` headers, when present. */
  eventId: string | undefined;
  eventType: string | undefined;
  tenantId: string | undefined;
  /** The record as stored in the DLQ (original key, value and headers plus the `x-dlq-*` ones). */
  record: TopicRecord;
}

/** Which dead letters to list or replay. */
export interface DeadLetterFilter {
  /** Only those the given consumer group gave up on (`x-dlq-consumer-group`). */
  group?: string;
  /** Only records at or after these DLQ offsets: one offset for every partition, or per partition. */
  fromOffset?: string | Record<number, string>;
}

const DLQ_PREFIX = 'x-dlq-';

/** Parses a `--from-offset` argument: `12` (every partition) or `0:12,2:40` (per partition). */
export function parseFromOffset(raw: string): DeadLetterFilter['fromOffset'] {
  if (/^\d+$/.test(raw)) return raw;
  const pairs = raw.split(',').map((p) => /^(\d+):(\d+)$/.exec(p.trim()));
  if (pairs.some((m) => !m))
    throw new Error(`--from-offset: expected a number or partition:offset,… (got ${raw})`);
  return Object.fromEntries(pairs.map((m) => [Number(m![1]), m![2]!]));
}

/** Reads a DLQ record's headers. */
export function toDeadLetter(record: TopicRecord): DeadLetter {
  const h = (name: string) => headerValue(record.headers, name);
  return {
    partition: record.partition,
    offset: record.offset,
    originalTopic: h(DLQ_HEADERS.originalTopic),
    originalPartition: h(DLQ_HEADERS.originalPartition),
    originalOffset: h(DLQ_HEADERS.originalOffset),
    consumerGroup: h(DLQ_HEADERS.consumerGroup),
    errorCode: h(DLQ_HEADERS.errorCode),
    reason: h(DLQ_HEADERS.reason),
    attempts: h(DLQ_HEADERS.attempts),
    failedAt: h(DLQ_HEADERS.failedAt),
    eventId: h('ce_id'),
    eventType: h('ce_type'),
    tenantId: h('ce_tenantid'),
    record,
  };
}

function matches(letter: DeadLetter, filter: DeadLetterFilter): boolean {
  if (filter.group !== undefined && letter.consumerGroup !== filter.group) return false;
  const from =
    typeof filter.fromOffset === 'string' ? filter.fromOffset : filter.fromOffset?.[letter.partition];
  return from === undefined || BigInt(letter.offset) >= BigInt(from);
}

/** The dead letters of `dlqTopic` (everything stored now), in DLQ order per partition. */
export async function listDeadLetters(
  client: KafkaClient,
  dlqTopic: string,
  filter: DeadLetterFilter = {},
): Promise<DeadLetter[]> {
  const records = await readTopic(client, dlqTopic, { timeoutMs: 120_000 });
  return records.map(toDeadLetter).filter((l) => matches(l, filter));
}

/** The original record of a dead letter: original key, value and headers, without the `x-dlq-*` ones. */
export function originalRecord(letter: DeadLetter): RawRecord {
  const headers: Record<string, Buffer | string> = {};
  for (const [name, value] of Object.entries(letter.record.headers)) {
    if (name.startsWith(DLQ_PREFIX) || value === undefined) continue;
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) headers[name] = first;
  }
  return { key: letter.record.key, value: letter.record.value, headers };
}

/** Options of {@link replayDeadLetters}. */
export interface ReplayOptions extends DeadLetterFilter {
  /** List what would be replayed; publish nothing. */
  dryRun?: boolean;
  /** Records per publish (default 100); progress is reported after each. */
  batchSize?: number;
  /** Called after each published batch (and once for a dry run). */
  onProgress?: (progress: { replayed: number; total: number; topic: string; lastOffset: string }) => void;
  /** Producer to use (default: a new one of `client`, disconnected afterwards). */
  producer?: EventProducer;
}

/** What {@link replayDeadLetters} did. */
export interface ReplayResult {
  /** Dead letters selected by the filter. */
  selected: number;
  /** Re-published (0 on a dry run). */
  replayed: number;
  /** Selected records without an `x-dlq-original-topic` header (not replayable; left alone). */
  skipped: DeadLetter[];
  /** Per DLQ partition, the offset after the last replayed record (a `fromOffset` to resume from). */
  nextOffsets: Record<number, string>;
}

/**
 * Re-publishes dead letters to their original topics — original key, value and headers, minus the
 * `x-dlq-*` ones — in DLQ order, so the original consumers process them again. Replaying is safe to
 * repeat: event ids are deterministic and consumers de-duplicate by id, so an event that was already
 * processed (or replayed twice) changes nothing. The DLQ itself is left as it is (it expires by
 * retention). Every consumer group of the original topic sees the replayed records.
 */
export async function replayDeadLetters(
  client: KafkaClient,
  dlqTopic: string,
  options: ReplayOptions = {},
): Promise<ReplayResult> {
  const letters = await listDeadLetters(client, dlqTopic, options);
  const skipped = letters.filter((l) => !l.originalTopic);
  const replayable = letters.filter((l) => l.originalTopic);
  const nextOffsets: Record<number, string> = {};
  if (options.dryRun) {
    options.onProgress?.({ replayed: 0, total: replayable.length, topic: '-', lastOffset: '-' });
    return { selected: letters.length, replayed: 0, skipped, nextOffsets };
  }
  const producer = options.producer ?? createEventProducer(client);
  const batchSize = Math.max(1, options.batchSize ?? 100);
  let replayed = 0;
  try {
    // Consecutive letters of the same original topic go out together, in DLQ order.
    for (let i = 0; i < replayable.length;) {
      const topic = replayable[i]!.originalTopic!;
      const batch: DeadLetter[] = [];
      while (i < replayable.length && batch.length < batchSize && replayable[i]!.originalTopic === topic)
        batch.push(replayable[i++]!);
      await producer.publishRaw(topic, batch.map(originalRecord));
      replayed += batch.length;
      for (const l of batch) nextOffsets[l.partition] = (BigInt(l.offset) + 1n).toString();
      options.onProgress?.({
        replayed,
        total: replayable.length,
        topic,
        lastOffset: `${batch.at(-1)!.partition}:${batch.at(-1)!.offset}`,
      });
    }
  } finally {
    if (!options.producer) await producer.disconnect().catch(() => undefined);
  }
  return { selected: letters.length, replayed, skipped, nextOffsets };
}
