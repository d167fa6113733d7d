import type { CloudEvent } from '@isams-sync/events';
import type { Logger } from '@isams-sync/logger';
import {
  activeSpanContext,
  contextFromCarrier,
  linkTo,
  ROOT_CONTEXT,
  SpanKind,
  withSpan,
} from '@isams-sync/telemetry';
import type { Link } from '@isams-sync/telemetry';
import type { KafkaMessage } from 'kafkajs';
import { fromKafkaMessage } from '../cloudevents-binding';
import { DONE, STOP, judgeFailure, logRetry } from './attempt-outcome';
import type { Outcome } from './attempt-outcome';
import type { ConsumerSettings } from './consumer-settings';
import { processSpanAttributes, withHeartbeats } from './handler-call';
import type { MessageProcessor } from './message-processor';
import { deliveryOf } from './partition-work';
import type { PartitionWork } from './partition-work';
import type { RetryTracker } from './retry-tracker';
import type { RunState } from './run-state';

/** A record decoded as a CloudEvent. */
export interface DecodedRecord {
  message: KafkaMessage;
  event: CloudEvent<unknown>;
}

/** The CloudEvents from `start` on, at most `max`, ending before the first record that is not one. */
export function decodeRun(messages: readonly KafkaMessage[], start: number, max: number): DecodedRecord[] {
  const run: DecodedRecord[] = [];
  for (let i = start; i < messages.length && run.length < max; i += 1) {
    const message = messages[i]!;
    let event: CloudEvent<unknown>;
    try {
      event = fromKafkaMessage(message);
    } catch {
      break;
    }
    run.push({ message, event });
  }
  return run;
}

/**
 * Batch mode: consecutive CloudEvents of the fetched batch, at most `maxBatchSize`, go to
 * `batchHandler` together and are committed together. A record that is not a CloudEvent ends the
 * batch before it and is dead-lettered on its own (through {@link MessageProcessor}).
 */
export class BatchProcessor {
  constructor(
    private readonly settings: ConsumerSettings & {
      batchHandler: NonNullable<ConsumerSettings['batchHandler']>;
    },
    private readonly state: RunState,
    private readonly retries: RetryTracker,
    private readonly messages: MessageProcessor,
  ) {}

  async processAll(work: PartitionWork): Promise<void> {
    let i = 0;
    while (i < work.messages.length) {
      if (!work.goOn()) return;
      const run = decodeRun(work.messages, i, this.settings.maxBatchSize);
      // An empty run: the record at `i` is not a CloudEvent, dead-lettered alone.
      const outcome =
        run.length === 0
          ? await this.processAlone(work, work.messages[i]!)
          : await this.processChunk(work, run);
      if (outcome.kind === 'stop') return;
      if (outcome.kind === 'later') return work.retryLater(outcome.delayMs);
      i += Math.max(1, run.length);
    }
  }

  /**
   * One attempt at a batch. A permanent failure splits it in halves (each handled the same way; one
   * event alone goes through {@link MessageProcessor}: handled again, dead-lettered if it fails
   * permanently), so a poison event neither blocks nor drops the others; any other failure retries
   * the batch from its first offset after a back-off.
   */
  private async processChunk(work: PartitionWork, chunk: DecodedRecord[]): Promise<Outcome> {
    if (chunk.length === 1) return this.processAlone(work, chunk[0]!.message);
    const { topic, partition } = work;
    const firstOffset = chunk[0]!.message.offset;
    const lastOffset = chunk.at(-1)!.message.offset;
    const log = this.settings.logger.child({
      topic,
      partition,
      firstOffset,
      lastOffset,
      batchSize: chunk.length,
    });
    const attempt = this.retries.nextAttempt(topic, partition, firstOffset);
    try {
      await this.handle(work, chunk, attempt, log);
      if (attempt > 1) log.info({ attempt }, 'kafka batch handler succeeded after retrying');
      this.retries.settled(topic, partition);
      await work.markDone(lastOffset, chunk.length, true);
      return DONE;
    } catch (err) {
      return this.afterFailure(work, chunk, err, attempt, log);
    }
  }

  private async processAlone(work: PartitionWork, message: KafkaMessage): Promise<Outcome> {
    const outcome = await this.messages.process(deliveryOf(work, message));
    if (outcome.kind === 'done') await work.markDone(message.offset, 1, true);
    return outcome;
  }

  /**
   * Calls the batch handler. A batch mixes events of several traces (runs, schools): its span starts
   * a trace of its own, linked to the span that published each event (docs/observability.md › Batches).
   */
  private handle(work: PartitionWork, chunk: DecodedRecord[], attempt: number, log: Logger): Promise<void> {
    const { topic, partition, heartbeat } = work;
    const { groupId, batchHandler, heartbeatIntervalMs } = this.settings;
    const firstOffset = chunk[0]!.message.offset;
    const lastOffset = chunk.at(-1)!.message.offset;
    const links = chunk.map((c) => linkTo(c.event)).filter((l): l is Link => l !== undefined);
    const attributes = {
      ...processSpanAttributes(topic, partition, groupId, attempt),
      'messaging.batch.message_count': chunk.length,
    };
    return withSpan(
      `process ${topic}`,
      { kind: SpanKind.CONSUMER, parent: ROOT_CONTEXT, links, attributes },
      () =>
        withHeartbeats(heartbeat, heartbeatIntervalMs, () =>
          batchHandler(
            chunk.map((c) => c.event),
            {
              topic,
              partition,
              firstOffset,
              lastOffset,
              sizes: chunk.map((c) => c.message.value?.length ?? 0),
              attempt,
              logger: log,
              heartbeat,
              inEventTrace: (event, fn) => {
                const batchSpan = activeSpanContext();
                return withSpan(
                  `process ${topic}`,
                  {
                    kind: SpanKind.CONSUMER,
                    parent: contextFromCarrier(event),
                    ...(batchSpan === undefined ? {} : { links: [{ context: batchSpan }] }),
                    attributes: {
                      ...processSpanAttributes(topic, partition, groupId, attempt),
                      'cloudevents.event_id': event.id,
                      'cloudevents.event_type': event.type,
                      'isams_sync.tenant_id': event.tenantid,
                    },
                  },
                  () => fn(),
                );
              },
            },
          ),
        ),
    );
  }

  private async afterFailure(
    work: PartitionWork,
    chunk: DecodedRecord[],
    err: unknown,
    attempt: number,
    log: Logger,
  ): Promise<Outcome> {
    const { topic, partition } = work;
    const { failure, decision } = judgeFailure(err, attempt, this.settings, this.state);
    switch (decision.action) {
      case 'give-up':
        this.retries.settled(topic, partition);
        log.warn({ failure, err }, 'kafka batch failed; splitting it to isolate the failing event');
        return this.processHalves(work, chunk);
      case 'leave-for-redelivery':
        log.info({ attempt }, 'kafka consumer stopping; failed batch left for redelivery');
        return STOP;
      case 'retry-later':
        this.retries.failed(topic, partition, chunk[0]!.message.offset, attempt);
        logRetry(log, 'kafka batch handler', { attempt, delayMs: decision.delayMs, failure, err });
        return { kind: 'later', delayMs: decision.delayMs };
    }
  }

  private async processHalves(work: PartitionWork, chunk: DecodedRecord[]): Promise<Outcome> {
    const half = Math.ceil(chunk.length / 2);
    for (const part of [chunk.slice(0, half), chunk.slice(half)]) {
      const outcome = await this.processChunk(work, part);
      // A part that must wait: the partition is fetched again from its first unfinished offset.
      if (outcome.kind !== 'done') return outcome;
    }
    return DONE;
  }
}
