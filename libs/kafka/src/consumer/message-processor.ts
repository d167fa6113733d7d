import type { CloudEvent } from '@isams-sync/events';
import type { Logger } from '@isams-sync/logger';
import { contextFromCarrier, SpanKind, withSpan } from '@isams-sync/telemetry';
import { fromKafkaMessage } from '../cloudevents-binding';
import { DONE, STOP, judgeFailure, logRetry } from './attempt-outcome';
import type { Delivery, Outcome } from './attempt-outcome';
import type { ConsumerSettings } from './consumer-settings';
import type { DeadLetterer } from './dead-letterer';
import { processSpanAttributes, withHeartbeats } from './handler-call';
import type { RetryTracker } from './retry-tracker';
import type { RunState } from './run-state';

/** Handles one attempt of one message: done (handled or dead-lettered), retry later, or stopping. */
export class MessageProcessor {
  constructor(
    private readonly settings: ConsumerSettings,
    private readonly state: RunState,
    private readonly retries: RetryTracker,
    private readonly deadLetterer: DeadLetterer,
  ) {}

  async process(delivery: Delivery): Promise<Outcome> {
    const { topic, partition, message } = delivery;
    const baseLog = this.settings.logger.child({ topic, partition, offset: message.offset });
    let event: CloudEvent<unknown>;
    try {
      event = fromKafkaMessage(message);
    } catch (err) {
      // Not a CloudEvent: dead-lettered at once.
      await this.deadLetterer.deadLetter(delivery, err, 0, baseLog);
      this.retries.settled(topic, partition);
      return DONE;
    }
    const log = baseLog.child({ eventId: event.id, eventType: event.type, tenantId: event.tenantid });
    const attempt = this.retries.nextAttempt(topic, partition, message.offset);
    try {
      await this.handle(delivery, event, attempt, log);
      if (attempt > 1) log.info({ attempt }, 'kafka handler succeeded after retrying');
      this.retries.settled(topic, partition);
      return DONE;
    } catch (err) {
      return this.afterFailure(delivery, err, attempt, log);
    }
  }

  /** Calls the handler in a CONSUMER span that continues the trace of the span that published it. */
  private handle(
    delivery: Delivery,
    event: CloudEvent<unknown>,
    attempt: number,
    log: Logger,
  ): Promise<void> {
    const { topic, partition, message, heartbeat } = delivery;
    const { groupId, handler, heartbeatIntervalMs } = this.settings;
    const attributes = {
      ...processSpanAttributes(topic, partition, groupId, attempt),
      'messaging.kafka.offset': Number(message.offset),
      'cloudevents.event_id': event.id,
      'cloudevents.event_type': event.type,
      'isams_sync.tenant_id': event.tenantid,
    };
    return withSpan(
      `process ${topic}`,
      { kind: SpanKind.CONSUMER, parent: contextFromCarrier(event), attributes },
      () =>
        withHeartbeats(heartbeat, heartbeatIntervalMs, () =>
          handler(event, {
            topic,
            partition,
            offset: message.offset,
            attempt,
            bytes: message.value?.length ?? 0,
            logger: log,
            heartbeat,
          }),
        ),
    );
  }

  private async afterFailure(
    delivery: Delivery,
    err: unknown,
    attempt: number,
    log: Logger,
  ): Promise<Outcome> {
    const { topic, partition, message } = delivery;
    const { failure, decision } = judgeFailure(err, attempt, this.settings, this.state);
    switch (decision.action) {
      case 'give-up':
        await this.deadLetterer.deadLetter(delivery, err, attempt, log);
        this.retries.settled(topic, partition);
        return DONE;
      case 'leave-for-redelivery':
        // Left uncommitted: the partition's next owner redelivers it.
        log.info({ attempt }, 'kafka consumer stopping; failed message left for redelivery');
        return STOP;
      case 'retry-later':
        this.retries.failed(topic, partition, message.offset, attempt);
        logRetry(log, 'kafka handler', { attempt, delayMs: decision.delayMs, failure, err });
        return { kind: 'later', delayMs: decision.delayMs };
    }
  }
}
