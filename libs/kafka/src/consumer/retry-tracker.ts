/**
 * The message (or batch, by its first offset) of each topic-partition that is being retried, and
 * its attempts so far: a redelivered offset continues counting, any other starts again at 1.
 */
export class RetryTracker {
  private readonly retrying = new Map<string, { offset: string; attempts: number }>();

  /** The attempt (1-based) that handling `offset` of this topic-partition now is. */
  nextAttempt(topic: string, partition: number, offset: string): number {
    const previous = this.retrying.get(keyOf(topic, partition));
    return (previous?.offset === offset ? previous.attempts : 0) + 1;
  }

  /** Attempt `attempts` at `offset` failed and will be retried. */
  failed(topic: string, partition: number, offset: string, attempts: number): void {
    this.retrying.set(keyOf(topic, partition), { offset, attempts });
  }

  /** Nothing of this topic-partition is being retried any more (handled or dead-lettered). */
  settled(topic: string, partition: number): void {
    this.retrying.delete(keyOf(topic, partition));
  }
}

const keyOf = (topic: string, partition: number): string => `${topic}:${partition}`;
