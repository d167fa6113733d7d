import type { Logger } from '@isams-sync/logger';
import type { Message } from 'kafkajs';
import { backoffDelay } from '../backoff';
import type { BackoffOptions } from '../backoff';
import type { PublishResult } from '../event-producer';
import type { InterruptibleSleep } from '../interruptible-sleep';
import { KafkaErrors, reasonOf } from '../kafka-errors';
import { isPermanentKafkaError } from '../kafka-failures';
import type { ProducerInstance, ProducerSlot } from './producer-slot';
import { splitBatches } from './split-batches';

/** {@link EventProducerOptions} with every default applied. */
export interface PublishSettings {
  logger: Logger;
  deadlineMs: number;
  attemptTimeoutMs: number;
  retryBackoff: BackoffOptions;
  maxBatchSize: number;
  maxBatchBytes: number;
  ackTimeoutMs: number;
}

/** One attempt took longer than `attemptTimeoutMs`. */
class AttemptTimeout extends Error {
  constructor(ms: number) {
    super(`no acknowledgement within ${ms} ms`);
    this.name = 'AttemptTimeout';
  }
}

async function withAttemptTimeout<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AttemptTimeout(ms)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** What to do after a failed attempt of a publish. */
export type PublishFailureDecision =
  /** Retrying cannot fix it (message too large, not authorised, invalid record …). */
  | { action: 'fail' }
  | { action: 'give-up'; why: 'disconnected' | 'deadline' }
  | { action: 'retry'; delayMs: number };

/** Decides what follows a failed attempt: only a permanent failure, the deadline or `disconnect()` end a publish. */
export function decideAfterPublishFailure(
  err: unknown,
  at: { attempt: number; leftMs: number; closed: boolean; backoff: BackoffOptions },
): PublishFailureDecision {
  if (!(err instanceof AttemptTimeout) && isPermanentKafkaError(err)) return { action: 'fail' };
  if (at.closed) return { action: 'give-up', why: 'disconnected' };
  if (at.leftMs <= 0) return { action: 'give-up', why: 'deadline' };
  return { action: 'retry', delayMs: Math.min(at.leftMs, backoffDelay(at.attempt, at.backoff)) };
}

/** The produce requests of one publish, and which of them the broker acknowledged so far. */
class PublishProgress {
  sent = 0;
  readonly partitions: PublishResult['partitions'] = [];
  constructor(readonly batches: Message[][]) {}
}

/**
 * Publishes with retries: each attempt sends only the requests not yet acknowledged, through the
 * slot's current producer; a failed attempt retires that producer and waits a back-off.
 */
export class RetryingPublisher {
  constructor(
    private readonly settings: PublishSettings,
    private readonly slot: ProducerSlot,
    private readonly sleeper: InterruptibleSleep,
  ) {}

  async publish(topic: string, messages: Message[]): Promise<PublishResult> {
    if (messages.length === 0) return { topic, count: 0, partitions: [], attempts: 0 };
    const { maxBatchSize, maxBatchBytes, deadlineMs, attemptTimeoutMs, logger } = this.settings;
    const progress = new PublishProgress(splitBatches(messages, maxBatchSize, maxBatchBytes));
    const count = messages.length;
    const deadline = Date.now() + deadlineMs;
    for (let attempt = 1; ; attempt += 1) {
      if (this.slot.closed) {
        throw KafkaErrors.KAFKA_PUBLISH_FAILED({ topic, reason: 'the producer was disconnected' });
      }
      const inst = this.slot.current;
      try {
        const timeoutMs = Math.max(1, Math.min(attemptTimeoutMs, deadline - Date.now()));
        await withAttemptTimeout(timeoutMs, this.sendRemaining(inst, topic, progress));
        if (attempt > 1) logger.info({ topic, count, attempt }, 'kafka publish succeeded after retrying');
        return { topic, count, partitions: progress.partitions, attempts: attempt };
      } catch (err) {
        await this.afterFailedAttempt(err, inst, { topic, count, attempt, deadline });
      }
    }
  }

  private async sendRemaining(
    inst: ProducerInstance,
    topic: string,
    progress: PublishProgress,
  ): Promise<void> {
    await this.slot.connected(inst);
    while (progress.sent < progress.batches.length) {
      const records = await inst.producer.send({
        topic,
        acks: -1,
        timeout: this.settings.ackTimeoutMs,
        messages: progress.batches[progress.sent]!,
      });
      for (const r of records)
        progress.partitions.push({ partition: r.partition, baseOffset: r.baseOffset ?? '-1' });
      progress.sent += 1;
    }
  }

  /** Throws when the publish ends here; otherwise waits its back-off before the next attempt. */
  private async afterFailedAttempt(
    err: unknown,
    inst: ProducerInstance,
    at: { topic: string; count: number; attempt: number; deadline: number },
  ): Promise<void> {
    const { topic, count, attempt } = at;
    const { logger, deadlineMs, retryBackoff: backoff } = this.settings;
    const leftMs = at.deadline - Date.now();
    const decision = decideAfterPublishFailure(err, { attempt, leftMs, closed: this.slot.closed, backoff });
    if (decision.action === 'fail') {
      logger.error({ topic, count, err }, 'kafka publish failed');
      throw KafkaErrors.KAFKA_PUBLISH_FAILED({ topic, reason: reasonOf(err) }, { cause: err });
    }
    // A fresh producer for the next attempt: a hung connection or a producer id the broker
    // no longer knows (after a restart) does not carry over.
    this.slot.retire(inst);
    if (decision.action === 'give-up') {
      logger.error(
        { topic, count, attempts: attempt, deadlineMs, err },
        'kafka publish gave up at its deadline',
      );
      if (decision.why === 'disconnected')
        throw KafkaErrors.KAFKA_PUBLISH_FAILED(
          { topic, reason: 'the producer was disconnected' },
          { cause: err },
        );
      throw KafkaErrors.KAFKA_PUBLISH_TIMEOUT({ topic, timeoutMs: deadlineMs }, { cause: err });
    }
    logger.warn(
      { topic, count, attempt, delayMs: decision.delayMs, leftMs, err: reasonOf(err) },
      'kafka publish failed; retrying',
    );
    await this.sleeper.sleep(decision.delayMs);
  }
}
