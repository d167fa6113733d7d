import type { Consumer, EachBatchPayload } from 'kafkajs';
import type { BatchProcessor } from './batch-processor';
import type { ConsumerSettings } from './consumer-settings';
import type { MessageProcessor } from './message-processor';
import { deliveryOf, OffsetCommitter } from './partition-work';
import type { PartitionPauses, PartitionWork } from './partition-work';
import type { RunState } from './run-state';

/**
 * kafkajs' `eachBatch`: handles a fetched batch of one partition in order. A message counts as done
 * once its handler succeeded or it was dead-lettered; done offsets are committed every
 * `commitBatchSize` messages / `commitIntervalMs`, at the end and on any exit (so a failure commits
 * what was done before it). A message to retry later pauses the partition (it is fetched again
 * from there on resume).
 */
export class FetchedBatches {
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly consumer: Consumer,
    private readonly settings: ConsumerSettings,
    private readonly state: RunState,
    private readonly pauses: PartitionPauses,
    private readonly messages: MessageProcessor,
    private readonly batches: BatchProcessor | undefined,
  ) {}

  readonly eachBatch = (payload: EachBatchPayload): Promise<void> => {
    // Messages already fetched when stop() began are left uncommitted for the next owner.
    if (this.state.stopping) return Promise.resolve();
    const p = this.process(payload).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
    return p;
  };

  /** Waits for the batches being handled now (their handlers finish, their offsets are committed). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  private async process(payload: EachBatchPayload): Promise<void> {
    const committer = new OffsetCommitter(this.consumer, payload, this.settings);
    const work = this.workOf(payload, committer);
    try {
      if (this.batches) await this.batches.processAll(work);
      else await this.processOneByOne(work);
    } finally {
      await committer.flush();
    }
  }

  private workOf(payload: EachBatchPayload, committer: OffsetCommitter): PartitionWork {
    const { batch, heartbeat, isRunning, isStale, pause } = payload;
    return {
      topic: batch.topic,
      partition: batch.partition,
      messages: batch.messages,
      heartbeat,
      goOn: () => !this.state.stopping && isRunning() && !isStale(),
      markDone: (offset, count, commitNow) => committer.markDone(offset, count, commitNow),
      retryLater: (delayMs) => this.pauses.pauseFor(pause, delayMs),
    };
  }

  private async processOneByOne(work: PartitionWork): Promise<void> {
    for (const message of work.messages) {
      if (!work.goOn()) break;
      const outcome = await this.messages.process(deliveryOf(work, message));
      if (outcome.kind === 'stop') break;
      if (outcome.kind === 'later') {
        work.retryLater(outcome.delayMs);
        break;
      }
      await work.markDone(message.offset, 1, false);
    }
  }
}
