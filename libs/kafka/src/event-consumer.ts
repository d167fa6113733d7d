import type { CloudEvent } from '@isams-sync/events';
import { dlqTopicName } from '@isams-sync/events';
import { isAppError } from '@isams-sync/errors';
import type { Logger } from '@isams-sync/logger';
import type { Consumer, EachBatchPayload, IHeaders, KafkaMessage } from 'kafkajs';
import { backoffDelay } from './backoff';
import type { BackoffOptions } from './backoff';
import { fromKafkaMessage } from './cloudevents-binding';
import { createEventProducer } from './event-producer';
import type { KafkaClient } from './kafka-client';
import { KafkaErrors, reasonOf } from './kafka-errors';

/** Context passed to a handler with each event. */
export interface ConsumerContext {
  topic: string;
  partition: number;
  offset: string;
  /** 1-based attempt number for this message. */
  attempt: number;
  /** Logger bound to topic/partition/offset/event id/tenant. */
  logger: Logger;
  /** Tell the group coordinator we are alive during long handlers. */
  heartbeat(): Promise<void>;
}

/**
 * Handles one event. Must be idempotent: de-duplicate by `event.id` (a message can be delivered more
 * than once after a crash, a rebalance or a re-send). Throw to retry; throw an error for which
 * `isRetryable` returns false to dead-letter at once.
 */
export type EventHandler = (event: CloudEvent<unknown>, ctx: ConsumerContext) => Promise<void>;

/** Options of {@link runConsumer}. */
export interface RunConsumerOptions {
  client: KafkaClient;
  groupId: string;
  topics: string[];
  handler: EventHandler;
  /** Attempts per message before dead-lettering (default 5). */
  maxAttempts?: number;
  backoff?: BackoffOptions;
  /** Dead-letter topic name, or a function of the source topic (default `<topic>.dlq`). */
  dlqTopic?: string | ((topic: string) => string);
  /** False = dead-letter at once. Default: retry everything except AppErrors of kind `invalid_argument`. */
  isRetryable?: (err: unknown) => boolean;
  logger?: Logger;
  /** Group session timeout (default 30000; 6000–10000 in tests). */
  sessionTimeoutMs?: number;
  /** Heartbeat interval (default 3000; 1000 in tests). */
  heartbeatIntervalMs?: number;
  /** Rebalance timeout (default 60000). */
  rebalanceTimeoutMs?: number;
  /** Start from the earliest offset when the group has no committed offset (default false = latest). */
  fromBeginning?: boolean;
  /** Partitions processed concurrently (default 1; order is per partition either way). */
  partitionsConsumedConcurrently?: number;
  /**
   * Attempts to subscribe when the broker does not serve the topics yet (default 10, backoff 0.5 s
   * doubling to 5 s, ~35 s in all). A topic created moments ago by another service is not yet
   * hosted by every broker ("This server does not host this topic-partition"); without this, a
   * service starting alongside the one that creates its topics failed to start.
   */
  startAttempts?: number;
  /**
   * Offsets are committed after at most this many handled messages of a partition (default 100) or
   * `commitIntervalMs` (default 1000), and always at the end of a fetched batch and on stop. One
   * commit per message capped a consumer at a few hundred messages a second; a crash now redelivers
   * at most this many already-handled messages (handlers are idempotent).
   */
  commitBatchSize?: number;
  commitIntervalMs?: number;
}

/** Errors of a subscription to topics a broker does not serve yet (created moments ago, leader not elected). */
const TOPIC_NOT_READY =
  /UNKNOWN_TOPIC_OR_PARTITION|LEADER_NOT_AVAILABLE|NOT_LEADER|does not host this topic-partition|no leader|COORDINATOR_(NOT_AVAILABLE|LOAD_IN_PROGRESS)|NOT_COORDINATOR/i;

/** True when `err` (or an error it wraps) says the topics are not served yet; see `startAttempts`. */
export function isTopicNotReadyError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth += 1) {
    const { type, message, originalError, cause } = e as {
      type?: unknown;
      message?: unknown;
      originalError?: unknown;
      cause?: unknown;
    };
    if (typeof type === 'string' && TOPIC_NOT_READY.test(type)) return true;
    if (typeof message === 'string' && TOPIC_NOT_READY.test(message)) return true;
    e = originalError ?? cause;
  }
  return false;
}

/** A running consumer. */
export interface ConsumerHandle {
  /** Resolves when the consumer first joined its group (partitions assigned); rejects if it fails to start. */
  ready: Promise<void>;
  /** Stops fetching, lets the in-flight handler call finish, leaves the group. Idempotent. */
  stop(): Promise<void>;
  /** Stops fetching from all subscribed topics (in-flight message finishes). Call after `ready`. */
  pause(): void;
  /** Resumes fetching. */
  resume(): void;
  /** Partitions currently assigned to this member, per topic. */
  assignments(): Record<string, number[]>;
}

/** Extra headers added to a dead-lettered message. */
export const DLQ_HEADERS = {
  reason: 'x-dlq-reason',
  errorCode: 'x-dlq-error-code',
  originalTopic: 'x-dlq-original-topic',
  originalPartition: 'x-dlq-original-partition',
  originalOffset: 'x-dlq-original-offset',
  attempts: 'x-dlq-attempts',
  consumerGroup: 'x-dlq-consumer-group',
  failedAt: 'x-dlq-failed-at',
} as const;

const defaultIsRetryable = (err: unknown): boolean => !(isAppError(err) && err.kind === 'invalid_argument');

/**
 * Runs a consumer-group member that hands each CloudEvent to `handler`, one message at a time per
 * partition. Offsets are committed manually, only up to messages whose handler succeeded or that were
 * dead-lettered (at-least-once), a few at a time (`commitBatchSize`, `commitIntervalMs`). Failures are retried `maxAttempts` times with backoff; then — or
 * at once for non-retryable errors and messages that are not valid CloudEvents — the original
 * message is produced to the DLQ with `x-dlq-*` headers and committed.
 *
 * Returns at once; await `ready` before relying on assignments (it rejects with
 * `KAFKA_CONSUMER_FAILED` when connecting or joining fails).
 */
export function runConsumer(options: RunConsumerOptions): ConsumerHandle {
  const { client, groupId, topics, handler } = options;
  const maxAttempts = options.maxAttempts ?? 5;
  const isRetryable = options.isRetryable ?? defaultIsRetryable;
  const dlqFor = (topic: string): string =>
    typeof options.dlqTopic === 'function'
      ? options.dlqTopic(topic)
      : (options.dlqTopic ?? dlqTopicName(topic));
  const logger = (options.logger ?? client.logger).child({ component: 'kafka-consumer', groupId });

  const consumer: Consumer = client.kafka.consumer({
    groupId,
    sessionTimeout: options.sessionTimeoutMs ?? 30_000,
    heartbeatInterval: options.heartbeatIntervalMs ?? 3000,
    rebalanceTimeout: options.rebalanceTimeoutMs ?? 60_000,
    allowAutoTopicCreation: false,
  });
  const dlqProducer = createEventProducer(client, { logger });

  let stopping = false;
  let assigned: Record<string, number[]> = {};
  let resolveReady!: () => void;
  let rejectReady!: (err: unknown) => void;
  const ready = new Promise<void>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  // Avoid an unhandled rejection when the caller never awaits `ready`.
  ready.catch(() => undefined);
  const wakeups = new Set<() => void>();

  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    assigned = e.payload.memberAssignment;
    logger.info({ assignment: assigned }, 'kafka consumer joined group');
    resolveReady();
  });
  consumer.on(consumer.events.CRASH, (e) => {
    logger.error({ err: e.payload.error, restart: e.payload.restart }, 'kafka consumer crashed');
    if (!e.payload.restart) {
      rejectReady(
        KafkaErrors.KAFKA_CONSUMER_FAILED(
          { groupId, reason: reasonOf(e.payload.error) },
          { cause: e.payload.error },
        ),
      );
    }
  });

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

  // kafkajs heartbeats only when asked, so long backoffs are cut into heartbeat-sized naps.
  const backoffWithHeartbeats = async (ms: number, heartbeat: () => Promise<void>): Promise<void> => {
    const step = options.heartbeatIntervalMs ?? 3000;
    for (let left = ms; left > 0 && !stopping; left -= step) {
      await sleep(Math.min(step, left));
      if (!stopping) await heartbeat();
    }
  };

  interface Delivery {
    topic: string;
    partition: number;
    message: KafkaMessage;
    heartbeat: () => Promise<void>;
  }

  const deadLetter = async (
    delivery: Delivery,
    err: unknown,
    attempts: number,
    log: Logger,
  ): Promise<void> => {
    const { topic, partition, message } = delivery;
    const dlqTopic = dlqFor(topic);
    const headers: IHeaders = { ...(message.headers ?? {}) };
    headers[DLQ_HEADERS.reason] = reasonOf(err).slice(0, 1000);
    headers[DLQ_HEADERS.errorCode] = isAppError(err) ? err.code : 'UNHANDLED';
    headers[DLQ_HEADERS.originalTopic] = topic;
    headers[DLQ_HEADERS.originalPartition] = String(partition);
    headers[DLQ_HEADERS.originalOffset] = message.offset;
    headers[DLQ_HEADERS.attempts] = String(attempts);
    headers[DLQ_HEADERS.consumerGroup] = groupId;
    headers[DLQ_HEADERS.failedAt] = new Date().toISOString();
    try {
      await dlqProducer.publishRaw(dlqTopic, [{ key: message.key, value: message.value, headers }]);
    } catch (dlqErr) {
      // Not committed: the message is redelivered and dead-lettering is tried again.
      throw KafkaErrors.KAFKA_DLQ_PUBLISH_FAILED({ dlqTopic, reason: reasonOf(dlqErr) }, { cause: dlqErr });
    }
    log.warn(
      { dlqTopic, attempts, errorCode: headers[DLQ_HEADERS.errorCode], err },
      'kafka message dead-lettered',
    );
  };

  const inFlight = new Set<Promise<void>>();
  const commitBatchSize = Math.max(1, options.commitBatchSize ?? 100);
  const commitIntervalMs = options.commitIntervalMs ?? 1000;

  const eachBatch = (payload: EachBatchPayload): Promise<void> => {
    // Messages already fetched when stop() began are left uncommitted for the next owner.
    if (stopping) return Promise.resolve();
    const p = processBatch(payload).finally(() => inFlight.delete(p));
    inFlight.add(p);
    return p;
  };

  /**
   * Handles a fetched batch of one partition in order. A message counts as done once its handler
   * succeeded or it was dead-lettered; done offsets are committed every `commitBatchSize` messages /
   * `commitIntervalMs`, at the end and on any exit (so a failure commits what was done before it).
   */
  const processBatch = async (payload: EachBatchPayload): Promise<void> => {
    const { batch, heartbeat, isRunning, isStale, resolveOffset } = payload;
    const { topic, partition } = batch;
    let done: string | undefined;
    let pending = 0;
    let lastCommit = Date.now();
    const flush = async (): Promise<void> => {
      if (done === undefined) return;
      const offset = (BigInt(done) + 1n).toString();
      done = undefined;
      pending = 0;
      lastCommit = Date.now();
      await consumer.commitOffsets([{ topic, partition, offset }]);
    };
    try {
      for (const message of batch.messages) {
        if (stopping || !isRunning() || isStale()) break;
        if (!(await processMessage({ topic, partition, message, heartbeat }))) break;
        resolveOffset(message.offset);
        done = message.offset;
        pending += 1;
        if (pending >= commitBatchSize || Date.now() - lastCommit >= commitIntervalMs) await flush();
        await heartbeat();
      }
    } finally {
      await flush();
    }
  };

  /** Handles one message with retries / dead-lettering; false = stopping, leave it for redelivery. */
  const processMessage = async (delivery: Delivery): Promise<boolean> => {
    const { topic, partition, message, heartbeat } = delivery;
    const baseLog = logger.child({ topic, partition, offset: message.offset });
    let event: CloudEvent<unknown>;
    try {
      event = fromKafkaMessage(message);
    } catch (err) {
      await deadLetter(delivery, err, 0, baseLog);
      return true;
    }
    const log = baseLog.child({ eventId: event.id, eventType: event.type, tenantId: event.tenantid });
    for (let attempt = 1; ; attempt += 1) {
      try {
        await handler(event, { topic, partition, offset: message.offset, attempt, logger: log, heartbeat });
        return true;
      } catch (err) {
        const retryable = isRetryable(err);
        if (!retryable || attempt >= maxAttempts) {
          await deadLetter(delivery, err, attempt, log);
          return true;
        }
        const delay = backoffDelay(attempt, options.backoff);
        log.warn({ attempt, maxAttempts, delayMs: delay, err }, 'kafka handler failed; retrying');
        if (!stopping) await backoffWithHeartbeats(delay, heartbeat);
        if (stopping) {
          // Left uncommitted: the partition's next owner redelivers it.
          log.info({ attempt }, 'kafka consumer stopping; failed message left for redelivery');
          return false;
        }
      }
    }
  };

  const started = (async () => {
    await consumer.connect();
    const attempts = Math.max(1, options.startAttempts ?? 10);
    for (let attempt = 1; ; attempt += 1) {
      try {
        await consumer.subscribe({ topics, fromBeginning: options.fromBeginning ?? false });
        break;
      } catch (err) {
        if (stopping || attempt >= attempts || !isTopicNotReadyError(err)) throw err;
        const delayMs = Math.min(5000, 500 * 2 ** (attempt - 1));
        logger.warn({ attempt, attempts, delayMs, topics, err }, 'topics not served yet; subscribing again');
        await sleep(delayMs);
        if (stopping) throw new Error('stopped before subscribing');
      }
    }
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1,
      eachBatchAutoResolve: false,
      eachBatch,
    });
  })();
  started.catch(async (err: unknown) => {
    logger.error({ err }, 'kafka consumer failed to start');
    rejectReady(KafkaErrors.KAFKA_CONSUMER_FAILED({ groupId, reason: reasonOf(err) }, { cause: err }));
    await consumer.disconnect().catch(() => undefined);
    await dlqProducer.disconnect().catch(() => undefined);
  });

  let stopped: Promise<void> | undefined;
  return {
    ready,
    stop: () => {
      stopped ??= (async () => {
        stopping = true;
        for (const wake of [...wakeups]) wake();
        await started.catch(() => undefined);
        // kafkajs skips commits once its own stop() has begun, so the in-flight message is finished
        // and committed first, with fetching paused, and only then does the member leave.
        try {
          consumer.pause(topics.map((topic) => ({ topic })));
        } catch {
          // Not running yet: nothing to pause.
        }
        await Promise.allSettled([...inFlight]);
        await consumer.disconnect();
        await dlqProducer.disconnect();
        rejectReady(KafkaErrors.KAFKA_CONSUMER_FAILED({ groupId, reason: 'stopped before joining' }));
        logger.info('kafka consumer stopped');
      })();
      return stopped;
    },
    pause: () => consumer.pause(topics.map((topic) => ({ topic }))),
    resume: () => consumer.resume(topics.map((topic) => ({ topic }))),
    assignments: () => ({ ...assigned }),
  };
}
