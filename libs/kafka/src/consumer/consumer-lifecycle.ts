import type { Consumer, EachBatchHandler } from 'kafkajs';
import type { ConsumerHandle } from '../event-consumer';
import type { EventProducer } from '../event-producer';
import { InterruptibleSleep } from '../interruptible-sleep';
import { KafkaErrors, reasonOf } from '../kafka-errors';
import { readySignal } from '../ready-signal';
import type { ConsumerSettings } from './consumer-settings';
import type { PartitionPauses } from './partition-work';
import type { RunState } from './run-state';
import { isTopicNotReadyError } from './topic-readiness';

/** What the lifecycle drives. */
export interface LifecycleParts {
  consumer: Consumer;
  dlqProducer: EventProducer;
  settings: ConsumerSettings;
  state: RunState;
  pauses: PartitionPauses;
  eachBatch: EachBatchHandler;
  /** Waits for the batches being handled now. */
  drain(): Promise<void>;
}

/** What to do about a consumer kafkajs reports crashed. */
export type CrashDecision =
  /** kafkajs reconnects, re-joins and resumes from the committed offsets by itself. */
  | 'client-restarts'
  | 'ignore'
  /** A broker that just started may not have a group coordinator yet: join again, a few times. */
  | 'rejoin'
  | 'fail-start'
  | 'rebuild';

/** Decides what follows a crash kafkajs reported. */
export function decideAfterCrash(
  crash: { error: unknown; restart: boolean },
  at: { stopping: boolean; joined: boolean; startRecoveries: number; startAttempts: number },
): CrashDecision {
  if (crash.restart) return 'client-restarts';
  if (at.stopping) return 'ignore';
  if (at.joined) return 'rebuild';
  if (isTopicNotReadyError(crash.error) && at.startRecoveries < at.startAttempts) return 'rejoin';
  return 'fail-start';
}

/**
 * Starts the consumer (connect, subscribe once the topics are served, run), rebuilds one kafkajs
 * gave up on, and stops it: the runner's life from `runConsumer` to `stop()`.
 */
export class ConsumerLifecycle {
  private readonly ready = readySignal();
  private readonly sleeper = new InterruptibleSleep();
  private readonly started: Promise<void>;
  private stopped: Promise<void> | undefined;
  private startRecoveries = 0;
  // Rebuilding a consumer kafkajs gave up on: one loop at a time; a crash while it runs goes round again.
  private recovering: Promise<void> | undefined;
  private crashedWhileRecovering = false;

  constructor(private readonly parts: LifecycleParts) {
    const { consumer } = parts;
    consumer.on(consumer.events.GROUP_JOIN, (e) => this.onJoin(e.payload.memberAssignment));
    consumer.on(consumer.events.CRASH, (e) => this.onCrash(e.payload));
    this.started = this.start();
    this.started.catch((err: unknown) => this.onStartFailed(err));
  }

  /** The handle `runConsumer` returns. */
  handle(): ConsumerHandle {
    const { consumer, settings, state } = this.parts;
    const all = settings.topics.map((topic) => ({ topic }));
    return {
      ready: this.ready.promise,
      stop: () => (this.stopped ??= this.stop()),
      pause: () => {
        state.userPaused = true;
        consumer.pause(all);
      },
      resume: () => {
        state.userPaused = false;
        consumer.resume(all);
      },
      assignments: () => ({ ...state.assigned }),
    };
  }

  /** Connects, subscribes (waiting for topics that are not served yet) and starts fetching. */
  private async start(): Promise<void> {
    const { consumer, settings, eachBatch } = this.parts;
    await consumer.connect();
    await this.subscribeWhenServed();
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: settings.partitionsConsumedConcurrently,
      eachBatchAutoResolve: false,
      eachBatch,
    });
  }

  private async subscribeWhenServed(): Promise<void> {
    const { consumer, settings, state } = this.parts;
    const { topics, fromBeginning, startAttempts: attempts, logger } = settings;
    for (let attempt = 1; ; attempt += 1) {
      try {
        await consumer.subscribe({ topics, fromBeginning });
        return;
      } catch (err) {
        if (state.stopping || attempt >= attempts || !isTopicNotReadyError(err)) throw err;
        const delayMs = Math.min(5000, 500 * 2 ** (attempt - 1));
        logger.warn({ attempt, attempts, delayMs, topics, err }, 'topics not served yet; subscribing again');
        await this.sleeper.sleep(delayMs);
        if (state.stopping) throw new Error('stopped before subscribing');
      }
    }
  }

  private async onStartFailed(err: unknown): Promise<void> {
    const { consumer, dlqProducer, settings } = this.parts;
    settings.logger.error({ err }, 'kafka consumer failed to start');
    this.ready.reject(this.failedToStart(err));
    await consumer.disconnect().catch(() => undefined);
    await dlqProducer.disconnect().catch(() => undefined);
  }

  private onJoin(assignment: Record<string, number[]>): void {
    const { state, settings } = this.parts;
    state.assigned = assignment;
    state.joined = true;
    settings.logger.info({ assignment }, 'kafka consumer joined group');
    this.ready.resolve();
  }

  private onCrash(crash: { error: Error; restart: boolean }): void {
    const { state, settings } = this.parts;
    const { logger, startAttempts } = settings;
    const { error: err } = crash;
    const at = { ...state, startRecoveries: this.startRecoveries, startAttempts };
    switch (decideAfterCrash(crash, at)) {
      case 'client-restarts':
        logger.warn({ err }, 'kafka consumer crashed; its client restarts it');
        return;
      case 'ignore':
        return;
      case 'rejoin':
        this.startRecoveries += 1;
        logger.warn(
          { err, attempt: this.startRecoveries },
          'kafka consumer could not join yet; trying again',
        );
        return this.recover();
      case 'fail-start':
        logger.error({ err }, 'kafka consumer crashed before joining its group');
        return this.ready.reject(this.failedToStart(err));
      case 'rebuild':
        logger.error({ err }, 'kafka consumer crashed and its client gave up');
        return this.recover();
    }
  }

  private recover(): void {
    if (this.recovering) {
      this.crashedWhileRecovering = true;
      return;
    }
    this.recovering = this.rebuildUntilRunning().finally(() => {
      this.recovering = undefined;
    });
  }

  private async rebuildUntilRunning(): Promise<void> {
    const { state, settings } = this.parts;
    const { logger, recoveryMaxDelayMs } = settings;
    for (let attempt = 1; !state.stopping; attempt += 1) {
      this.crashedWhileRecovering = false;
      const delayMs = Math.min(recoveryMaxDelayMs, 1000 * 2 ** (attempt - 1));
      logger.warn({ attempt, delayMs }, 'kafka consumer stopped by its client; rebuilding it');
      await this.sleeper.sleep(delayMs);
      if (state.stopping) return;
      try {
        await this.parts.consumer.disconnect().catch(() => undefined);
        await this.start();
        if (!this.crashedWhileRecovering) {
          logger.info({ attempt }, 'kafka consumer rebuilt; resuming from the committed offsets');
          return;
        }
      } catch (err) {
        logger.error({ attempt, err }, 'rebuilding the kafka consumer failed; trying again');
      }
    }
  }

  private async stop(): Promise<void> {
    const { consumer, dlqProducer, settings, state, pauses } = this.parts;
    state.stopping = true;
    this.sleeper.wakeAll();
    pauses.cancelAll();
    await this.started.catch(() => undefined);
    await this.recovering?.catch(() => undefined);
    // kafkajs skips commits once its own stop() has begun, so the in-flight message is finished
    // and committed first, with fetching paused, and only then does the member leave.
    try {
      consumer.pause(settings.topics.map((topic) => ({ topic })));
    } catch {
      // Not running: nothing to pause.
    }
    await this.parts.drain();
    await consumer.disconnect();
    await dlqProducer.disconnect();
    this.ready.reject(
      KafkaErrors.KAFKA_CONSUMER_FAILED({ groupId: settings.groupId, reason: 'stopped before joining' }),
    );
    settings.logger.info('kafka consumer stopped');
  }

  private failedToStart(err: unknown): Error {
    const { groupId } = this.parts.settings;
    return KafkaErrors.KAFKA_CONSUMER_FAILED({ groupId, reason: reasonOf(err) }, { cause: err });
  }
}
