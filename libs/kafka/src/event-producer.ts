import type { CloudEvent } from '@isams-sync/events';
import type { Logger } from '@isams-sync/logger';
import { SpanKind, withSpan } from '@isams-sync/telemetry';
import type { Message, Producer } from 'kafkajs';
import { backoffDelay } from './backoff';
import type { BackoffOptions } from './backoff';
import { toKafkaMessage } from './cloudevents-binding';
import { kafkajsOf } from './kafka-client';
import type { KafkaClient } from './kafka-client';
import { KafkaErrors, reasonOf } from './kafka-errors';
import { isPermanentKafkaError } from './kafka-failures';
import { tenantPartitioner } from './partitioner';

/** Default of {@link EventProducerOptions.publishDeadlineMs}: five minutes. */
export const DEFAULT_PUBLISH_DEADLINE_MS = 300_000;

/** Options of {@link createEventProducer}. */
export interface EventProducerOptions {
  logger?: Logger;
  /**
   * How long one `publish` keeps trying, in all (default 300000 = 5 min). A broker restart, a
   * leader change or a network blip is retried with back-off until then; only a failure that can
   * never succeed (message too large, not authorised, invalid record …) fails at once.
   */
  publishDeadlineMs?: number;
  /**
   * Upper bound of one attempt (connect + send of the remaining requests; default 30000). An attempt
   * that hangs is abandoned, its producer closed, and the next attempt uses a fresh one.
   */
  attemptTimeoutMs?: number;
  /** Back-off between attempts (default 500 ms doubling to 10 s, ±20 %). */
  retryBackoff?: BackoffOptions;
  /** Records per produce request; larger publishes are split and sent in order (default 500). */
  maxBatchSize?: number;
  /**
   * Approximate bytes per produce request (keys, values, headers; default 900,000): a batch is cut
   * before it would pass this, so large events never exceed the broker's 1 MiB request limit.
   */
  maxBatchBytes?: number;
  /** Broker-side wait for acknowledgements per request (default 30000). */
  ackTimeoutMs?: number;
}

/** Per-call options of {@link EventProducer.publish}. */
export interface PublishOptions {
  /** Record key per event; default tenant id. Use `<tenantid>/<subject>` for compacted state topics. */
  keyOf?: (event: CloudEvent) => string;
}

/** A record to produce as it is (key, value and headers untouched), e.g. a dead letter being replayed. */
export interface RawRecord {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, Buffer | string>;
}

/** What a successful publish wrote. */
export interface PublishResult {
  topic: string;
  count: number;
  /** Base offset of each acknowledged produce request per partition. */
  partitions: { partition: number; baseOffset: string }[];
  /** Attempts it took (1 = no retry). */
  attempts: number;
}

/** An idempotent, acks=all CloudEvents producer. */
export interface EventProducer {
  /**
   * Connects eagerly (optional: `publish` connects on first use).
   * @throws AppError `KAFKA_UNAVAILABLE`
   */
  connect(): Promise<void>;
  /**
   * Publishes events in binary mode and resolves once all replicas acknowledged them (acks=all).
   * Order is preserved per tenant. Transient failures are retried until `publishDeadlineMs`.
   * Never fire-and-forget: await it.
   * @throws AppError `KAFKA_PUBLISH_TIMEOUT` (deadline passed) or `KAFKA_PUBLISH_FAILED` (a failure
   * that retrying cannot fix, or the producer was disconnected).
   */
  publish(topic: string, events: readonly CloudEvent[], options?: PublishOptions): Promise<PublishResult>;
  /** Publishes already-encoded records (dead letters, pre-serialised chunks), with the same retries. */
  publishRaw(topic: string, records: readonly RawRecord[]): Promise<PublishResult>;
  /** Disconnects; a publish still retrying then fails with `KAFKA_PUBLISH_FAILED`. */
  disconnect(): Promise<void>;
}

/**
 * Creates an idempotent producer: `idempotent: true`, acks=all (-1), one in-flight request (kafkajs
 * requires it for idempotence), partitioned by tenant id. A publish rides through broker restarts:
 * each failed attempt is followed by a fresh kafkajs producer (a new producer id, so the broker's
 * sequence checks start over) and only the requests not yet acknowledged are sent again.
 */
export function createEventProducer(client: KafkaClient, options: EventProducerOptions = {}): EventProducer {
  const logger = (options.logger ?? client.logger).child({ component: 'kafka-producer' });
  const deadlineMs = options.publishDeadlineMs ?? DEFAULT_PUBLISH_DEADLINE_MS;
  const attemptTimeoutMs = options.attemptTimeoutMs ?? 30_000;
  const retryBackoff: BackoffOptions = { initialMs: 500, maxMs: 10_000, ...options.retryBackoff };
  const maxBatchSize = options.maxBatchSize ?? 500;
  const maxBatchBytes = options.maxBatchBytes ?? 900_000;
  const ackTimeoutMs = options.ackTimeoutMs ?? 30_000;

  interface Instance {
    producer: Producer;
    connected: Promise<void> | undefined;
  }
  const newInstance = (): Instance => ({
    producer: kafkajsOf(client).producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: tenantPartitioner,
      allowAutoTopicCreation: false,
    }),
    connected: undefined,
  });
  let current = newInstance();
  let closed = false;
  const wakeups = new Set<() => void>();

  const connected = (inst: Instance): Promise<void> => {
    inst.connected ??= inst.producer.connect().catch((err: unknown) => {
      inst.connected = undefined;
      throw err;
    });
    return inst.connected;
  };

  /** Replaces `inst` (if still current) by a fresh producer; the old one is closed in the background. */
  const retire = (inst: Instance): void => {
    if (current !== inst) return;
    current = newInstance();
    void inst.producer.disconnect().catch(() => undefined);
  };

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        wakeups.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      wakeups.add(done);
    });

  const withTimeout = async <T>(ms: number, work: Promise<T>): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new AttemptTimeout(ms)), ms);
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };

  const publishMessages = async (topic: string, messages: Message[]): Promise<PublishResult> => {
    if (messages.length === 0) return { topic, count: 0, partitions: [], attempts: 0 };
    const batches = splitBatches(messages, maxBatchSize, maxBatchBytes);
    const partitions: PublishResult['partitions'] = [];
    const deadline = Date.now() + deadlineMs;
    let sent = 0;
    for (let attempt = 1; ; attempt += 1) {
      if (closed) {
        throw KafkaErrors.KAFKA_PUBLISH_FAILED({ topic, reason: 'the producer was disconnected' });
      }
      const inst = current;
      try {
        await withTimeout(
          Math.max(1, Math.min(attemptTimeoutMs, deadline - Date.now())),
          (async () => {
            await connected(inst);
            while (sent < batches.length) {
              const records = await inst.producer.send({
                topic,
                acks: -1,
                timeout: ackTimeoutMs,
                messages: batches[sent]!,
              });
              for (const r of records)
                partitions.push({ partition: r.partition, baseOffset: r.baseOffset ?? '-1' });
              sent += 1;
            }
          })(),
        );
        if (attempt > 1)
          logger.info({ topic, count: messages.length, attempt }, 'kafka publish succeeded after retrying');
        return { topic, count: messages.length, partitions, attempts: attempt };
      } catch (err) {
        if (!(err instanceof AttemptTimeout) && isPermanentKafkaError(err)) {
          logger.error({ topic, count: messages.length, err }, 'kafka publish failed');
          throw KafkaErrors.KAFKA_PUBLISH_FAILED({ topic, reason: reasonOf(err) }, { cause: err });
        }
        // A fresh producer for the next attempt: a hung connection or a producer id the broker
        // no longer knows (after a restart) does not carry over.
        retire(inst);
        const left = deadline - Date.now();
        if (left <= 0 || closed) {
          logger.error(
            { topic, count: messages.length, attempts: attempt, deadlineMs, err },
            'kafka publish gave up at its deadline',
          );
          if (closed)
            throw KafkaErrors.KAFKA_PUBLISH_FAILED(
              { topic, reason: 'the producer was disconnected' },
              { cause: err },
            );
          throw KafkaErrors.KAFKA_PUBLISH_TIMEOUT({ topic, timeoutMs: deadlineMs }, { cause: err });
        }
        const delayMs = Math.min(left, backoffDelay(attempt, retryBackoff));
        logger.warn(
          { topic, count: messages.length, attempt, delayMs, leftMs: left, err: reasonOf(err) },
          'kafka publish failed; retrying',
        );
        await sleep(delayMs);
      }
    }
  };

  return {
    connect: async () => {
      try {
        await connected(current);
      } catch (err) {
        throw KafkaErrors.KAFKA_UNAVAILABLE(
          { operation: 'producer connect', reason: reasonOf(err) },
          { cause: err },
        );
      }
    },
    // One PRODUCER span per publish; events without a trace context of their own carry this span's.
    publish: (topic, events, publishOptions = {}) =>
      withSpan(
        `publish ${topic}`,
        {
          kind: SpanKind.PRODUCER,
          attributes: {
            'messaging.system': 'kafka',
            'messaging.operation.type': 'send',
            'messaging.destination.name': topic,
            'messaging.batch.message_count': events.length,
          },
        },
        () =>
          publishMessages(
            topic,
            events.map((e) =>
              toKafkaMessage(e, publishOptions.keyOf === undefined ? {} : { key: publishOptions.keyOf(e) }),
            ),
          ),
      ),
    publishRaw: (topic, records) =>
      publishMessages(
        topic,
        records.map((m) => ({ ...m }) as Message),
      ),
    disconnect: async () => {
      closed = true;
      for (const wake of [...wakeups]) wake();
      await current.producer.disconnect();
    },
  };
}

/** One attempt took longer than `attemptTimeoutMs`. */
class AttemptTimeout extends Error {
  constructor(ms: number) {
    super(`no acknowledgement within ${ms} ms`);
    this.name = 'AttemptTimeout';
  }
}

const sizeOf = (v: Message['key'] | Message['value']): number =>
  v === null || v === undefined ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length;

/** Splits messages, in order, into batches of at most `maxCount` records and about `maxBytes` bytes. */
export function splitBatches(messages: readonly Message[], maxCount: number, maxBytes: number): Message[][] {
  const batches: Message[][] = [];
  let current: Message[] = [];
  let bytes = 0;
  for (const m of messages) {
    let size = 70 + sizeOf(m.key) + sizeOf(m.value);
    for (const [k, v] of Object.entries(m.headers ?? {}))
      size += k.length + (Array.isArray(v) ? v.reduce((n, x) => n + sizeOf(x), 0) : sizeOf(v as never));
    if (current.length > 0 && (current.length >= maxCount || bytes + size > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
