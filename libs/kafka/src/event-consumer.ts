import type { CloudEvent } from '@isams-sync/events';
import type { Logger } from '@isams-sync/logger';
import type { BackoffOptions } from './backoff';
import { BatchProcessor } from './consumer/batch-processor';
import { ConsumerLifecycle } from './consumer/consumer-lifecycle';
import { consumerSettings } from './consumer/consumer-settings';
import type { ConsumerSettings } from './consumer/consumer-settings';
import { DeadLetterer } from './consumer/dead-letterer';
import { FetchedBatches } from './consumer/fetched-batches';
import { MessageProcessor } from './consumer/message-processor';
import { PartitionPauses } from './consumer/partition-work';
import { RetryTracker } from './consumer/retry-tracker';
import { RunState } from './consumer/run-state';
import { createEventProducer } from './event-producer';
import { kafkajsOf } from './kafka-client';
import type { KafkaClient } from './kafka-client';
import type { HandlerFailure } from './kafka-failures';

export { DLQ_HEADERS } from './consumer/dead-letterer';
export { isTopicNotReadyError } from './consumer/topic-readiness';

/** Context passed to a handler with each event. */
export interface ConsumerContext {
  topic: string;
  partition: number;
  offset: string;
  /** 1-based attempt number for this message. */
  attempt: number;
  /** The message value's length (bytes; what a handler that keeps the event in memory counts it as). */
  bytes: number;
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
export interface BatchConsumerContext extends Omit<ConsumerContext, 'offset' | 'bytes'> {
  firstOffset: string;
  lastOffset: string;
  /** Each event's message value length (bytes), in the events' order: {@link ConsumerContext.bytes} of each. */
  sizes: readonly number[];
  /**
   * Runs `fn` in a `process` span that continues `event`'s own trace, linked to the batch's span:
   * the batch's span starts a trace of its own, and what one event of it causes belongs in that
   * event's trace (docs/observability.md › Batches).
   */
  inEventTrace<T>(event: CloudEvent<unknown>, fn: () => Promise<T>): Promise<T>;
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
   * Most bytes one fetch returns of a partition (default 1 MiB, kafkajs' own); a batch handler sees
   * at most one fetch's records at once, so a consumer of large records that handles them together
   * raises it (kafkajs returns a record batch larger than this whole either way).
   */
  maxBytesPerPartition?: number;
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
   * fields are bounded values: the source topic, its dead-letter topic and the error code (an
   * `AppError`'s code, `STACK_OVERFLOW` for a handler that exhausted the stack, else `UNHANDLED`).
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
  const settings = consumerSettings(options);
  const consumer = kafkajsOf(settings.client).consumer({
    groupId: settings.groupId,
    sessionTimeout: settings.sessionTimeoutMs,
    heartbeatInterval: settings.heartbeatIntervalMs,
    rebalanceTimeout: settings.rebalanceTimeoutMs,
    maxWaitTimeInMs: settings.maxWaitTimeMs,
    maxBytesPerPartition: settings.maxBytesPerPartition,
    // kafkajs' default total (10 MiB), or room for a few partitions at the raised size.
    maxBytes: Math.max(10 * 1024 * 1024, 4 * settings.maxBytesPerPartition),
    allowAutoTopicCreation: false,
  });
  // A dead letter that cannot be written is not committed (redelivered), so this deadline only
  // bounds how long one batch waits for the DLQ.
  const dlqProducer = createEventProducer(settings.client, {
    logger: settings.logger,
    publishDeadlineMs: 30_000,
  });
  const state = new RunState();
  const pauses = new PartitionPauses(() => !state.stopping && !state.userPaused);
  const retries = new RetryTracker();
  const messages = new MessageProcessor(settings, state, retries, new DeadLetterer(dlqProducer, settings));
  const batches = batchProcessorOf(settings, state, retries, messages);
  const fetched = new FetchedBatches(consumer, settings, state, pauses, messages, batches);
  const lifecycle = new ConsumerLifecycle({
    consumer,
    dlqProducer,
    settings,
    state,
    pauses,
    eachBatch: fetched.eachBatch,
    drain: () => fetched.drain(),
  });
  return lifecycle.handle();
}

/** Batch mode's processor, when a `batchHandler` is given. */
function batchProcessorOf(
  settings: ConsumerSettings,
  state: RunState,
  retries: RetryTracker,
  messages: MessageProcessor,
): BatchProcessor | undefined {
  const { batchHandler } = settings;
  return batchHandler && new BatchProcessor({ ...settings, batchHandler }, state, retries, messages);
}
