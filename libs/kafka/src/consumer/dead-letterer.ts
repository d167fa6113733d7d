import { isAppError } from '@isams-sync/errors';
import type { Logger } from '@isams-sync/logger';
import type { IHeaders } from 'kafkajs';
import type { EventProducer } from '../event-producer';
import { KafkaErrors, reasonOf } from '../kafka-errors';
import { isStackOverflow } from '../kafka-failures';
import type { Delivery } from './attempt-outcome';
import type { ConsumerSettings } from './consumer-settings';

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

/** The original record's headers plus the `x-dlq-*` ones saying where it came from and why it failed. */
export function deadLetterHeaders(
  delivery: Delivery,
  err: unknown,
  attempts: number,
  groupId: string,
): Record<string, Buffer | string> {
  const { topic, partition, message } = delivery;
  const headers: IHeaders = { ...(message.headers ?? {}) };
  const overflow = isStackOverflow(err);
  const reason = overflow
    ? `${reasonOf(err)} (a stack overflow handling this event: deterministic, so not retried)`
    : reasonOf(err);
  headers[DLQ_HEADERS.reason] = reason.slice(0, 1000);
  headers[DLQ_HEADERS.errorCode] = isAppError(err) ? err.code : overflow ? 'STACK_OVERFLOW' : 'UNHANDLED';
  headers[DLQ_HEADERS.originalTopic] = topic;
  headers[DLQ_HEADERS.originalPartition] = String(partition);
  headers[DLQ_HEADERS.originalOffset] = message.offset;
  headers[DLQ_HEADERS.attempts] = String(attempts);
  headers[DLQ_HEADERS.consumerGroup] = groupId;
  headers[DLQ_HEADERS.failedAt] = new Date().toISOString();
  return headers as Record<string, Buffer | string>;
}

/** Writes records that can never be handled to their dead-letter topic, as they came. */
export class DeadLetterer {
  constructor(
    private readonly producer: EventProducer,
    private readonly settings: Pick<ConsumerSettings, 'groupId' | 'dlqFor' | 'onDeadLettered'>,
  ) {}

  /**
   * Dead-letters the delivered record.
   * @throws AppError `KAFKA_DLQ_PUBLISH_FAILED`: then it is not committed, so it is redelivered and
   * dead-lettering is tried again.
   */
  async deadLetter(delivery: Delivery, err: unknown, attempts: number, log: Logger): Promise<void> {
    const { topic, message } = delivery;
    const dlqTopic = this.settings.dlqFor(topic);
    const headers = deadLetterHeaders(delivery, err, attempts, this.settings.groupId);
    try {
      await this.producer.publishRaw(dlqTopic, [{ key: message.key, value: message.value, headers }]);
    } catch (dlqErr) {
      throw KafkaErrors.KAFKA_DLQ_PUBLISH_FAILED({ dlqTopic, reason: reasonOf(dlqErr) }, { cause: dlqErr });
    }
    const errorCode = headers[DLQ_HEADERS.errorCode] as string;
    log.warn({ dlqTopic, attempts, errorCode, err }, 'kafka message dead-lettered');
    this.tellHook({ topic, dlqTopic, errorCode }, log);
  }

  private tellHook(e: { topic: string; dlqTopic: string; errorCode: string }, log: Logger): void {
    try {
      this.settings.onDeadLettered?.(e);
    } catch (hookErr) {
      log.error({ err: hookErr }, 'onDeadLettered hook failed');
    }
  }
}
