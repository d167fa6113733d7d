import type { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import type { Delivery } from './attempt-outcome';
import type { ConsumerSettings } from './consumer-settings';

/** One fetched batch of one partition, as the processors see it. */
export interface PartitionWork {
  topic: string;
  partition: number;
  messages: KafkaMessage[];
  heartbeat: () => Promise<void>;
  /** False once the consumer is stopping or kafkajs no longer wants this batch (rebalance, stale). */
  goOn(): boolean;
  /** Counts messages up to `offset` as done (handled or dead-lettered); see {@link OffsetCommitter}. */
  markDone(offset: string, count: number, commitNow: boolean): Promise<void>;
  /** Pauses the partition for `delayMs`; it is fetched again from its first unfinished offset. */
  retryLater(delayMs: number): void;
}

/** The delivery of `message` of `work` to a handler. */
export const deliveryOf = (work: PartitionWork, message: KafkaMessage): Delivery => ({
  topic: work.topic,
  partition: work.partition,
  message,
  heartbeat: work.heartbeat,
});

/**
 * Done offsets of one fetched batch, committed every `commitBatchSize` messages or
 * `commitIntervalMs`, when asked to, and by {@link flush} at the end.
 */
export class OffsetCommitter {
  private done: string | undefined;
  private pending = 0;
  private lastCommit = Date.now();

  constructor(
    private readonly consumer: Consumer,
    private readonly payload: EachBatchPayload,
    private readonly limits: Pick<ConsumerSettings, 'commitBatchSize' | 'commitIntervalMs'>,
  ) {}

  async markDone(offset: string, count: number, commitNow: boolean): Promise<void> {
    this.payload.resolveOffset(offset);
    this.done = offset;
    this.pending += count;
    if (commitNow || this.isDue()) await this.flush();
    await this.payload.heartbeat();
  }

  /** Commits the offset after the last done message, if any is not committed yet. */
  async flush(): Promise<void> {
    if (this.done === undefined) return;
    const offset = (BigInt(this.done) + 1n).toString();
    this.done = undefined;
    this.pending = 0;
    this.lastCommit = Date.now();
    const { topic, partition } = this.payload.batch;
    await this.consumer.commitOffsets([{ topic, partition, offset }]);
  }

  private isDue(): boolean {
    const { commitBatchSize, commitIntervalMs } = this.limits;
    return this.pending >= commitBatchSize || Date.now() - this.lastCommit >= commitIntervalMs;
  }
}

/**
 * Back-offs of failing partitions: each pauses its partition and resumes it when it ends, unless
 * the consumer is stopping or paused by its user by then.
 */
export class PartitionPauses {
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly mayResume: () => boolean) {}

  /** `pause` is kafkajs' per-batch pause: it pauses the partition and returns its resume. */
  pauseFor(pause: () => () => void, delayMs: number): void {
    const resume = pause();
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.mayResume()) resume();
    }, delayMs);
    this.timers.add(timer);
  }

  /** Drops every pending resume (on stop). */
  cancelAll(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
