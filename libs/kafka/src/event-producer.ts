import type { CloudEvent } from '@isams-sync/events';
import type { Logger } from '@isams-sync/logger';
import { SpanKind, withSpan } from '@isams-sync/telemetry';
import type { Message } from 'kafkajs';
import type { BackoffOptions } from './backoff';
import { toKafkaMessage } from './cloudevents-binding';
import { InterruptibleSleep } from './interruptible-sleep';
import type { KafkaClient } from './kafka-client';
import { KafkaErrors, reasonOf } from './kafka-errors';
import { ProducerSlot } from './producer/producer-slot';
import { RetryingPublisher } from './producer/retrying-publisher';
import type { PublishSettings } from './producer/retrying-publisher';

export { splitBatches } from './producer/split-batches';

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
  const slot = new ProducerSlot(client);
  const sleeper = new InterruptibleSleep();
  const publisher = new RetryingPublisher(publishSettings(client, options), slot, sleeper);
  return {
    connect: async () => {
      try {
        await slot.connected(slot.current);
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
          publisher.publish(
            topic,
            events.map((e) => toKafkaMessage(e, keyOptions(e, publishOptions))),
          ),
      ),
    publishRaw: (topic, records) =>
      publisher.publish(
        topic,
        records.map((m) => ({ ...m }) as Message),
      ),
    disconnect: async () => {
      slot.closed = true;
      sleeper.wakeAll();
      await slot.current.producer.disconnect();
    },
  };
}

/** Applies the defaults documented on {@link EventProducerOptions}. */
function publishSettings(client: KafkaClient, options: EventProducerOptions): PublishSettings {
  return {
    logger: (options.logger ?? client.logger).child({ component: 'kafka-producer' }),
    deadlineMs: options.publishDeadlineMs ?? DEFAULT_PUBLISH_DEADLINE_MS,
    attemptTimeoutMs: options.attemptTimeoutMs ?? 30_000,
    retryBackoff: { initialMs: 500, maxMs: 10_000, ...options.retryBackoff },
    maxBatchSize: options.maxBatchSize ?? 500,
    maxBatchBytes: options.maxBatchBytes ?? 900_000,
    ackTimeoutMs: options.ackTimeoutMs ?? 30_000,
  };
}

const keyOptions = (event: CloudEvent, options: PublishOptions): { key?: string } =>
  options.keyOf === undefined ? {} : { key: options.keyOf(event) };
