import type { CloudEvent } from '@isams-sync/events';
import type { Logger } from '@isams-sync/logger';
import type { Message, Producer } from 'kafkajs';
import { toKafkaMessage } from './cloudevents-binding';
import type { KafkaOutgoingMessage } from './cloudevents-binding';
import type { KafkaClient } from './kafka-client';
import { KafkaErrors, reasonOf } from './kafka-errors';
import { tenantPartitioner } from './partitioner';

/** Options of {@link createEventProducer}. */
export interface EventProducerOptions {
  logger?: Logger;
  /** Upper bound for one `publish` call including connecting and retries (default 30000). */
  publishTimeoutMs?: number;
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

/** What a successful publish wrote. */
export interface PublishResult {
  topic: string;
  count: number;
  /** Base offset of each acknowledged produce request per partition. */
  partitions: { partition: number; baseOffset: string }[];
}

/** An idempotent, acks=all CloudEvents producer. */
export interface EventProducer {
  /** Connects eagerly (optional: `publish` connects on first use). */
  connect(): Promise<void>;
  /**
   * Publishes events in binary mode and resolves once all replicas acknowledged them (acks=all).
   * Order is preserved per tenant. Never fire-and-forget: await it.
   * @throws AppError `KAFKA_PUBLISH_FAILED` or `KAFKA_PUBLISH_TIMEOUT`.
   */
  publish(topic: string, events: readonly CloudEvent[], options?: PublishOptions): Promise<PublishResult>;
  /** Publishes already-encoded records (used for dead-lettering original messages). */
  publishRaw(topic: string, messages: readonly (KafkaOutgoingMessage | Message)[]): Promise<PublishResult>;
  disconnect(): Promise<void>;
}

/**
 * Creates an idempotent producer: `idempotent: true`, acks=all (-1), one in-flight request (kafkajs
 * requires it for idempotence), partitioned by tenant id.
 */
export function createEventProducer(client: KafkaClient, options: EventProducerOptions = {}): EventProducer {
  const logger = (options.logger ?? client.logger).child({ component: 'kafka-producer' });
  const publishTimeoutMs = options.publishTimeoutMs ?? 30_000;
  const maxBatchSize = options.maxBatchSize ?? 500;
  const maxBatchBytes = options.maxBatchBytes ?? 900_000;
  const ackTimeoutMs = options.ackTimeoutMs ?? 30_000;
  const producer: Producer = client.kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: tenantPartitioner,
    allowAutoTopicCreation: false,
  });
  let connecting: Promise<void> | undefined;

  const connect = (): Promise<void> => {
    connecting ??= producer.connect().catch((err: unknown) => {
      connecting = undefined;
      throw err;
    });
    return connecting;
  };

  const send = async (topic: string, messages: Message[]): Promise<PublishResult> => {
    await connect();
    const partitions: PublishResult['partitions'] = [];
    for (const batch of splitBatches(messages, maxBatchSize, maxBatchBytes)) {
      const records = await producer.send({
        topic,
        acks: -1,
        timeout: ackTimeoutMs,
        messages: batch,
      });
      for (const r of records) partitions.push({ partition: r.partition, baseOffset: r.baseOffset ?? '-1' });
    }
    return { topic, count: messages.length, partitions };
  };

  const withTimeout = async (topic: string, messages: Message[]): Promise<PublishResult> => {
    if (messages.length === 0) return { topic, count: 0, partitions: [] };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(KafkaErrors.KAFKA_PUBLISH_TIMEOUT({ topic, timeoutMs: publishTimeoutMs })),
        publishTimeoutMs,
      );
    });
    try {
      return await Promise.race([send(topic, messages), timeout]);
    } catch (err) {
      if (KafkaErrors.KAFKA_PUBLISH_TIMEOUT.is(err)) {
        // Abandon the stuck connect/send so its retries stop; the next publish reconnects.
        connecting = undefined;
        void producer.disconnect().catch(() => undefined);
        logger.error(
          { topic, count: messages.length, timeoutMs: publishTimeoutMs },
          'kafka publish timed out',
        );
        throw err;
      }
      logger.error({ topic, count: messages.length, err }, 'kafka publish failed');
      throw KafkaErrors.KAFKA_PUBLISH_FAILED({ topic, reason: reasonOf(err) }, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    connect: async () => {
      try {
        await connect();
      } catch (err) {
        throw KafkaErrors.KAFKA_UNAVAILABLE(
          { operation: 'producer connect', reason: reasonOf(err) },
          { cause: err },
        );
      }
    },
    publish: (topic, events, publishOptions = {}) =>
      withTimeout(
        topic,
        events.map((e) =>
          toKafkaMessage(e, publishOptions.keyOf === undefined ? {} : { key: publishOptions.keyOf(e) }),
        ),
      ),
    publishRaw: (topic, messages) =>
      withTimeout(
        topic,
        messages.map((m) => ({ ...m }) as Message),
      ),
    disconnect: async () => {
      connecting = undefined;
      await producer.disconnect();
    },
  };
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
