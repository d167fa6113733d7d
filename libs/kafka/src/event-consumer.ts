import type { CloudEvent } from '@isams-sync/events';
import { dlqTopicName } from '@isams-sync/events';
import { isAppError } from '@isams-sync/errors';
import type { Logger } from '@isams-sync/logger';
import { contextFromCarrier, linkTo, ROOT_CONTEXT, SpanKind, withSpan } from '@isams-sync/telemetry';
import type { Link } from '@isams-sync/telemetry';
import type { Consumer, EachBatchPayload, IHeaders, KafkaMessage } from 'kafkajs';
import { backoffDelay } from './backoff';
import type { BackoffOptions } from './backoff';
import { fromKafkaMessage } from './cloudevents-binding';
import { createEventProducer } from './event-producer';
import { kafkajsOf } from './kafka-client';
import type { KafkaClient } from './kafka-client';
import { KafkaErrors, reasonOf } from './kafka-errors';
import { classifyHandlerFailure } from './kafka-failures';
import type { HandlerFailure } from './kafka-failures';

/** Context passed to a handler with each event. */
export interface ConsumerContext {
  topic: string;
  partition: number;
  offset: string;
  /** 1-based attempt number for this message. */
  attempt: number;
  /** Logger bound to topic/partition/offset/event id/tenant. */
  logger: Logger;
  /** Tell the group coordinator we are alive (the runner also does so while a handler runs). */
  heartbeat(): Promise<void>;
}

/**
 * Handles one event. Must be idempotent: de-duplicate by `event.id` (a message can be delivered more
 * than once after a crash, a rebalance, a retry or a replay). Throw to retry; an error classified
 * `permanent` (see {@link classifyHandlerFailure}) dead-letters the event at once.
 */
export type EventHandler = (event: CloudEvent<unknown>, ctx: ConsumerContext) => Promise<void>;

/** Context passed to a {@link BatchEventHandler} with each batch (offsets of its first and last event). */
export interface BatchConsumerContext extends Omit<ConsumerContext, 'offset'> {
  firstOffset: string;
  lastOffset: string;
}

/**
 * Handles consecutive events of one partition together (in offset order), all or nothing as far as
 * the runner knows: it resolves when every event is handled. Must be idempotent like
 * {@link EventHandler} (after a crash or a failed attempt the whole batch is delivered again). A
 * `permanent` failure makes the runner split the batch to isolate the event that fails (one event
 * alone goes to the per-event `handler`, which dead-letters it); any other failure retries the
 * whole batch after a back-off, like a failed single event.
 */
export type BatchEventHandler = (events: CloudEvent<unknown>[], ctx: BatchConsumerContext) => Promise<void>;

/** Options of {@link runConsumer}. */
export interface RunConsumerOptions {
  client: KafkaClient;
  groupId: string;
  topics: string[];
  handler: EventHandler;
  /**
   * Optional: handles up to `maxBatchSize` consecutive events of a fetched partition batch in one call
   * (one database round trip for many events). `handler` stays required: it handles an event a
   * failing batch was split down to (poison isolation). Offsets are committed after each batch.
   */
  batchHandler?: BatchEventHandler;
  /** Most events given to `batchHandler` at once (default 200). */
  maxBatchSize?: number;
  /**
   * Attempts per message for failures that are not permanent before it is dead-lettered (default:
   * no limit — a transient failure is retried until it succeeds). Permanent failures are
   * dead-lettered at the first attempt whatever this says.
   */
  maxAttempts?: number;
  /**
   * Back-off between attempts of a failing message (default 200 ms doubling, capped at 30 s, ±20 %).
   * While it waits, only that partition is paused; the others go on, and the member stays in its group.
   */
  backoff?: BackoffOptions;
  /** Dead-letter topic name, or a function of the source topic (default `<topic>.dlq`). */
  dlqTopic?: string | ((topic: string) => string);
  /**
   * Told after each message written to a dead-letter topic (for a metric; must not throw). The
   * fields are bounded values: the source topic, its dead-letter topic and the error code.
   */
  onDeadLettered?: (e: { topic: string; dlqTopic: string; errorCode: string }) => void;
  /** Classifies a handler failure (default {@link classifyHandlerFailure}: through the errors catalogue). */
  classify?: (err: unknown) => HandlerFailure;
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
   * doubling to 5 s, ~35 s in all), and to join again when the first join fails because the group
   * coordinator is not ready (a broker that just started). A topic created moments ago by another service is not yet
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
  /**
   * Longest wait of one fetch for new records (default 1000). It also bounds how late a paused
   * partition is fetched again after its back-off (kafkajs' default of 5 s made every retry ~5 s late).
   */
  maxWaitTimeMs?: number;
  /** Upper bound of the wait before the runner rebuilds a consumer kafkajs gave up on (default 30000). */
  recoveryMaxDelayMs?: number;
}

/**
 * Errors of a subscription to topics a broker does not serve yet (created moments ago, leader not
 * elected) or of a group coordinator not ready yet (a broker just started or restarted).
 */
const TOPIC_NOT_READY =
  /UNKNOWN_TOPIC_OR_PARTITION|LEADER_NOT_AVAILABLE|NOT_LEADER|does not host this topic-partition|no leader|COORDINATOR_(NOT_AVAILABLE|LOAD_IN_PROGRESS)|NOT_COORDINATOR|find group coordinator/i;

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

/**
 * Runs a consumer-group member that hands each CloudEvent to `handler`, one message at a time per
 * partition. Offsets are committed manually, only up to messages whose handler succeeded or that were
 * dead-lettered (at-least-once), a few at a time (`commitBatchSize`, `commitIntervalMs`).
 *
 * Failures (see {@link classifyHandlerFailure}):
 * - **permanent** (invalid data, an unknown schema version, a permanent `AppError` kind) and records
 *   that are not valid CloudEvents: the original record goes to the DLQ with `x-dlq-*` headers and is
 *   committed, at once;
 * - anything else (a database or Kafka away, an unexpected error): the message is retried until it
 *   succeeds (or `maxAttempts`, if set). Between attempts only its partition is paused for a capped
 *   back-off and then resumed, so later messages of that partition (the same schools) wait in order,
 *   other partitions go on, and the member keeps heartbeating and its group membership.
 *
 * The runner outlives the broker: kafkajs restarts a consumer that crashed on a retriable error
 * (`KafkaJSNumberOfRetriesExceeded` …), and one it would give up on is rebuilt here (connect,
 * subscribe, run) with a capped back-off, resuming from the committed offsets. It stops only on `stop()`.
 *
 * Returns at once; await `ready` before relying on assignments (it rejects with
 * `KAFKA_CONSUMER_FAILED` when connecting or joining fails the first time).
 */
export function runConsumer(options: RunConsumerOptions): ConsumerHandle {
  const { client, groupId, topics, handler } = options;
  const maxAttempts = options.maxAttempts ?? Number.POSITIVE_INFINITY;
  const classify = options.classify ?? classifyHandlerFailure;
  const backoff: BackoffOptions = { initialMs: 200, maxMs: 30_000, ...options.backoff };
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 3000;
  const recoveryMaxDelayMs = options.recoveryMaxDelayMs ?? 30_000;
  const dlqFor = (topic: string): string =>
    typeof options.dlqTopic === 'function'
      ? options.dlqTopic(topic)
      : (options.dlqTopic ?? dlqTopicName(topic));
  const logger = (options.logger ?? client.logger).child({ component: 'kafka-consumer', groupId });

  const consumer: Consumer = kafkajsOf(client).consumer({
    groupId,
    sessionTimeout: options.sessionTimeoutMs ?? 30_000,
    heartbeatInterval: heartbeatIntervalMs,
    rebalanceTimeout: options.rebalanceTimeoutMs ?? 60_000,
    maxWaitTimeInMs: options.maxWaitTimeMs ?? 1000,
    allowAutoTopicCreation: false,
  });
  // A dead letter that cannot be written is not committed (redelivered), so this deadline only
  // bounds how long one batch waits for the DLQ.
  const dlqProducer = createEventProducer(client, { logger, publishDeadlineMs: 30_000 });

  let stopping = false;
  let joined = false;
  let userPaused = false;
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
  const resumeTimers = new Set<NodeJS.Timeout>();
  /** The message of each topic-partition that is being retried, and its attempts so far. */
  const retrying = new Map<string, { offset: string; attempts: number }>();

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
      await dlqProducer.publishRaw(dlqTopic, [
        { key: message.key, value: message.value, headers: headers as Record<string, Buffer | string> },
      ]);
    } catch (dlqErr) {
      // Not committed: the message is redelivered and dead-lettering is tried again.
      throw KafkaErrors.KAFKA_DLQ_PUBLISH_FAILED({ dlqTopic, reason: reasonOf(dlqErr) }, { cause: dlqErr });
    }
    log.warn(
      { dlqTopic, attempts, errorCode: headers[DLQ_HEADERS.errorCode], err },
      'kafka message dead-lettered',
    );
    try {
      options.onDeadLettered?.({ topic, dlqTopic, errorCode: headers[DLQ_HEADERS.errorCode] as string });
    } catch (hookErr) {
      log.error({ err: hookErr }, 'onDeadLettered hook failed');
    }
  };

  /** Runs `fn` while heartbeating every interval, so a slow handler never costs the membership. */
  const withHeartbeats = async <T>(heartbeat: () => Promise<void>, fn: () => Promise<T>): Promise<T> => {
    const timer = setInterval(() => {
      // A rebalance reported here is reported again by the runner's own heartbeat after `fn`.
      heartbeat().catch(() => undefined);
    }, heartbeatIntervalMs);
    try {
      return await fn();
    } finally {
      clearInterval(timer);
    }
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

  /** What became of one message. */
  type Outcome = { kind: 'done' } | { kind: 'stop' } | { kind: 'later'; delayMs: number };

  /**
   * Handles a fetched batch of one partition in order. A message counts as done once its handler
   * succeeded or it was dead-lettered; done offsets are committed every `commitBatchSize` messages /
   * `commitIntervalMs`, at the end and on any exit (so a failure commits what was done before it).
   * A message to retry later pauses the partition (it is fetched again from there on resume).
   */
  const processBatch = async (payload: EachBatchPayload): Promise<void> => {
    const { batch, heartbeat, isRunning, isStale, resolveOffset, pause } = payload;
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
    const later = (delayMs: number): void => {
      const resume = pause();
      const timer = setTimeout(() => {
        resumeTimers.delete(timer);
        if (!stopping && !userPaused) resume();
      }, delayMs);
      resumeTimers.add(timer);
    };
    const markDone = async (offset: string, count: number, commitNow: boolean): Promise<void> => {
      resolveOffset(offset);
      done = offset;
      pending += count;
      if (commitNow || pending >= commitBatchSize || Date.now() - lastCommit >= commitIntervalMs)
        await flush();
      await heartbeat();
    };
    try {
      if (options.batchHandler) {
        await processInBatches(payload, later, markDone);
        return;
      }
      for (const message of batch.messages) {
        if (stopping || !isRunning() || isStale()) break;
        const outcome = await processMessage({ topic, partition, message, heartbeat });
        if (outcome.kind === 'stop') break;
        if (outcome.kind === 'later') {
          later(outcome.delayMs);
          break;
        }
        await markDone(message.offset, 1, false);
      }
    } finally {
      await flush();
    }
  };

  const maxBatchSize = Math.max(1, options.maxBatchSize ?? 200);

  /**
   * Batch mode: consecutive CloudEvents of the fetched batch, at most `maxBatchSize`, go to
   * `batchHandler` together and are committed together. A record that is not a CloudEvent ends the
   * batch before it and is dead-lettered on its own (through {@link processMessage}).
   */
  const processInBatches = async (
    payload: EachBatchPayload,
    later: (delayMs: number) => void,
    markDone: (offset: string, count: number, commitNow: boolean) => Promise<void>,
  ): Promise<void> => {
    const { batch, heartbeat, isRunning, isStale } = payload;
    const { topic, partition } = batch;
    const messages = batch.messages;
    let i = 0;
    while (i < messages.length) {
      if (stopping || !isRunning() || isStale()) return;
      const chunk: Array<{ message: KafkaMessage; event: CloudEvent<unknown> }> = [];
      while (i < messages.length && chunk.length < maxBatchSize) {
        const message = messages[i]!;
        let event: CloudEvent<unknown>;
        try {
          event = fromKafkaMessage(message);
        } catch {
          break;
        }
        chunk.push({ message, event });
        i += 1;
      }
      if (chunk.length === 0) {
        // Not a CloudEvent: dead-lettered alone.
        const message = messages[i]!;
        const outcome = await processMessage({ topic, partition, message, heartbeat });
        if (outcome.kind === 'stop') return;
        if (outcome.kind === 'later') return later(outcome.delayMs);
        await markDone(message.offset, 1, true);
        i += 1;
        continue;
      }
      const outcome = await processChunk(topic, partition, chunk, heartbeat, markDone);
      if (outcome.kind === 'stop') return;
      if (outcome.kind === 'later') return later(outcome.delayMs);
    }
  };

  /**
   * One attempt at a batch. A permanent failure splits it in halves (each handled the same way; one
   * event alone goes through {@link processMessage}: handled again, dead-lettered if it fails
   * permanently), so a poison event neither blocks nor drops the others; any other failure retries
   * the batch from its first offset after a back-off.
   */
  const processChunk = async (
    topic: string,
    partition: number,
    chunk: Array<{ message: KafkaMessage; event: CloudEvent<unknown> }>,
    heartbeat: () => Promise<void>,
    markDone: (offset: string, count: number, commitNow: boolean) => Promise<void>,
  ): Promise<Outcome> => {
    if (chunk.length === 1) {
      const outcome = await processMessage({ topic, partition, message: chunk[0]!.message, heartbeat });
      if (outcome.kind === 'done') await markDone(chunk[0]!.message.offset, 1, true);
      return outcome;
    }
    const firstOffset = chunk[0]!.message.offset;
    const lastOffset = chunk.at(-1)!.message.offset;
    const log = logger.child({ topic, partition, firstOffset, lastOffset, batchSize: chunk.length });
    const key = `${topic}:${partition}`;
    const previous = retrying.get(key);
    const attempt = (previous?.offset === firstOffset ? previous.attempts : 0) + 1;
    try {
      // A batch mixes events of several traces (runs, schools): its span starts a trace of its own,
      // linked to the span that published each event (docs/observability.md › Batches).
      const links = chunk.map((c) => linkTo(c.event)).filter((l): l is Link => l !== undefined);
      await withSpan(
        `process ${topic}`,
        {
          kind: SpanKind.CONSUMER,
          parent: ROOT_CONTEXT,
          links,
          attributes: {
            'messaging.system': 'kafka',
            'messaging.operation.type': 'process',
            'messaging.destination.name': topic,
            'messaging.destination.partition.id': String(partition),
            'messaging.consumer.group.name': groupId,
            'messaging.batch.message_count': chunk.length,
            'isams_sync.attempt': attempt,
          },
        },
        () =>
          withHeartbeats(heartbeat, () =>
            options.batchHandler!(
              chunk.map((c) => c.event),
              { topic, partition, firstOffset, lastOffset, attempt, logger: log, heartbeat },
            ),
          ),
      );
      if (attempt > 1) log.info({ attempt }, 'kafka batch handler succeeded after retrying');
      retrying.delete(key);
      await markDone(lastOffset, chunk.length, true);
      return { kind: 'done' };
    } catch (err) {
      const failure = classify(err);
      if (failure === 'permanent' || attempt >= maxAttempts) {
        retrying.delete(key);
        log.warn({ failure, err }, 'kafka batch failed; splitting it to isolate the failing event');
        const half = Math.ceil(chunk.length / 2);
        for (const part of [chunk.slice(0, half), chunk.slice(half)]) {
          const outcome = await processChunk(topic, partition, part, heartbeat, markDone);
          // A part that must wait: the partition is fetched again from its first unfinished offset.
          if (outcome.kind !== 'done') return outcome;
        }
        return { kind: 'done' };
      }
      if (stopping) {
        log.info({ attempt }, 'kafka consumer stopping; failed batch left for redelivery');
        return { kind: 'stop' };
      }
      retrying.set(key, { offset: firstOffset, attempts: attempt });
      const delayMs = backoffDelay(attempt, backoff);
      const fields = { attempt, delayMs, failure, err };
      if (failure === 'transient') log.warn(fields, 'kafka batch handler failed; partition paused, retrying');
      else log.error(fields, 'kafka batch handler failed unexpectedly; partition paused, retrying');
      return { kind: 'later', delayMs };
    }
  };

  /** Handles one attempt of one message: done (handled or dead-lettered), retry later, or stopping. */
  const processMessage = async (delivery: Delivery): Promise<Outcome> => {
    const { topic, partition, message, heartbeat } = delivery;
    const baseLog = logger.child({ topic, partition, offset: message.offset });
    const key = `${topic}:${partition}`;
    let event: CloudEvent<unknown>;
    try {
      event = fromKafkaMessage(message);
    } catch (err) {
      await deadLetter(delivery, err, 0, baseLog);
      retrying.delete(key);
      return { kind: 'done' };
    }
    const log = baseLog.child({ eventId: event.id, eventType: event.type, tenantId: event.tenantid });
    const previous = retrying.get(key);
    const attempt = (previous?.offset === message.offset ? previous.attempts : 0) + 1;
    try {
      // The event's CONSUMER span continues the trace of the span that published it.
      await withSpan(
        `process ${topic}`,
        {
          kind: SpanKind.CONSUMER,
          parent: contextFromCarrier(event),
          attributes: {
            'messaging.system': 'kafka',
            'messaging.operation.type': 'process',
            'messaging.destination.name': topic,
            'messaging.destination.partition.id': String(partition),
            'messaging.consumer.group.name': groupId,
            'messaging.kafka.offset': Number(message.offset),
            'cloudevents.event_id': event.id,
            'cloudevents.event_type': event.type,
            'isams_sync.tenant_id': event.tenantid,
            'isams_sync.attempt': attempt,
          },
        },
        () =>
          withHeartbeats(heartbeat, () =>
            handler(event, { topic, partition, offset: message.offset, attempt, logger: log, heartbeat }),
          ),
      );
      if (attempt > 1) log.info({ attempt }, 'kafka handler succeeded after retrying');
      retrying.delete(key);
      return { kind: 'done' };
    } catch (err) {
      const failure = classify(err);
      if (failure === 'permanent' || attempt >= maxAttempts) {
        await deadLetter(delivery, err, attempt, log);
        retrying.delete(key);
        return { kind: 'done' };
      }
      if (stopping) {
        // Left uncommitted: the partition's next owner redelivers it.
        log.info({ attempt }, 'kafka consumer stopping; failed message left for redelivery');
        return { kind: 'stop' };
      }
      retrying.set(key, { offset: message.offset, attempts: attempt });
      const delayMs = backoffDelay(attempt, backoff);
      const fields = { attempt, delayMs, failure, err };
      if (failure === 'transient') log.warn(fields, 'kafka handler failed; partition paused, retrying');
      else log.error(fields, 'kafka handler failed unexpectedly; partition paused, retrying');
      return { kind: 'later', delayMs };
    }
  };

  /** Connects, subscribes (waiting for topics that are not served yet) and starts fetching. */
  const startAttempts = Math.max(1, options.startAttempts ?? 10);
  let startRecoveries = 0;
  const startConsumer = async (): Promise<void> => {
    await consumer.connect();
    const attempts = startAttempts;
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
  };

  // Rebuilding a consumer kafkajs gave up on: one loop at a time; a crash while it runs goes round again.
  let recovering: Promise<void> | undefined;
  let crashedWhileRecovering = false;
  const recover = (): void => {
    if (recovering) {
      crashedWhileRecovering = true;
      return;
    }
    recovering = (async () => {
      for (let attempt = 1; !stopping; attempt += 1) {
        crashedWhileRecovering = false;
        const delayMs = Math.min(recoveryMaxDelayMs, 1000 * 2 ** (attempt - 1));
        logger.warn({ attempt, delayMs }, 'kafka consumer stopped by its client; rebuilding it');
        await sleep(delayMs);
        if (stopping) return;
        try {
          await consumer.disconnect().catch(() => undefined);
          await startConsumer();
          if (!crashedWhileRecovering) {
            logger.info({ attempt }, 'kafka consumer rebuilt; resuming from the committed offsets');
            return;
          }
        } catch (err) {
          logger.error({ attempt, err }, 'rebuilding the kafka consumer failed; trying again');
        }
      }
    })().finally(() => {
      recovering = undefined;
    });
  };

  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    assigned = e.payload.memberAssignment;
    joined = true;
    logger.info({ assignment: assigned }, 'kafka consumer joined group');
    resolveReady();
  });
  consumer.on(consumer.events.CRASH, (e) => {
    const { error, restart } = e.payload;
    if (restart) {
      // kafkajs reconnects, re-joins and resumes from the committed offsets by itself.
      logger.warn({ err: error }, 'kafka consumer crashed; its client restarts it');
      return;
    }
    if (stopping) return;
    if (!joined) {
      // A broker that just started may not have a group coordinator yet: join again, a few times.
      if (isTopicNotReadyError(error) && startRecoveries < startAttempts) {
        startRecoveries += 1;
        logger.warn(
          { err: error, attempt: startRecoveries },
          'kafka consumer could not join yet; trying again',
        );
        recover();
        return;
      }
      logger.error({ err: error }, 'kafka consumer crashed before joining its group');
      rejectReady(KafkaErrors.KAFKA_CONSUMER_FAILED({ groupId, reason: reasonOf(error) }, { cause: error }));
      return;
    }
    logger.error({ err: error }, 'kafka consumer crashed and its client gave up');
    recover();
  });

  const started = startConsumer();
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
        for (const timer of resumeTimers) clearTimeout(timer);
        resumeTimers.clear();
        await started.catch(() => undefined);
        await recovering?.catch(() => undefined);
        // kafkajs skips commits once its own stop() has begun, so the in-flight message is finished
        // and committed first, with fetching paused, and only then does the member leave.
        try {
          consumer.pause(topics.map((topic) => ({ topic })));
        } catch {
          // Not running: nothing to pause.
        }
        await Promise.allSettled([...inFlight]);
        await consumer.disconnect();
        await dlqProducer.disconnect();
        rejectReady(KafkaErrors.KAFKA_CONSUMER_FAILED({ groupId, reason: 'stopped before joining' }));
        logger.info('kafka consumer stopped');
      })();
      return stopped;
    },
    pause: () => {
      userPaused = true;
      consumer.pause(topics.map((topic) => ({ topic })));
    },
    resume: () => {
      userPaused = false;
      consumer.resume(topics.map((topic) => ({ topic })));
    },
    assignments: () => ({ ...assigned }),
  };
}
