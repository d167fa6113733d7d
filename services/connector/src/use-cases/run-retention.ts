import type { Logger } from '@isams-sync/logger';
import { startPeriodic } from '@isams-sync/runtime';
import type { PeriodicTask } from '@isams-sync/runtime';
import { RUN_BOOKKEEPING_RETENTION_MS } from '../domain/run-retention';
import type { RunRetentionStore } from './ports';

export interface RunRetentionOptions {
  /** Runs are kept this long after they were requested (`RUN_HISTORY_DAYS`). */
  historyMs: number;
  /** How often each replica prunes (every replica may: a delete of what is gone changes nothing). */
  intervalMs: number;
  /** Documents dropped per call, and calls per prune at most (what is left waits for the next prune). */
  batch?: number;
  maxBatches?: number;
  now?: () => Date;
}

export interface PruneOutcome {
  bookkeeping: number;
  runs: number;
}

/**
 * Drops what the connector keeps of ended runs once it is no longer kept (domain/run-retention):
 * their step claims and kept reports a day after they ended, the runs `RUN_HISTORY_DAYS` after they
 * were requested. In batches, so one prune never holds the database long; a backlog (a first prune
 * after an upgrade) goes over the next prunes.
 */
export class RunRetention {
  private task: PeriodicTask | undefined;
  private readonly now: () => Date;

  constructor(
    private readonly store: RunRetentionStore,
    private readonly logger: Logger,
    private readonly opts: RunRetentionOptions,
  ) {
    this.now = opts.now ?? (() => new Date());
  }

  start(): void {
    this.task = startPeriodic(() => this.prune(), {
      name: 'run retention',
      intervalMs: this.opts.intervalMs,
      logger: this.logger,
    });
  }

  async stop(): Promise<void> {
    await this.task?.stop();
  }

  async prune(): Promise<PruneOutcome> {
    const now = this.now().getTime();
    const bookkeeping = await this.drain((limit) =>
      this.store.dropEndedBookkeeping(new Date(now - RUN_BOOKKEEPING_RETENTION_MS), limit),
    );
    const runs = await this.drain((limit) =>
      this.store.dropEndedRuns(new Date(now - this.opts.historyMs), limit),
    );
    if (bookkeeping + runs > 0)
      this.logger.info({ bookkeeping, runs }, 'ended runs past their retention dropped');
    return { bookkeeping, runs };
  }

  /** Calls `drop` while it fills its batch, at most `maxBatches` times; how many went in all. */
  private async drain(drop: (limit: number) => Promise<number>): Promise<number> {
    const batch = this.opts.batch ?? 500;
    let total = 0;
    for (let i = 0; i < (this.opts.maxBatches ?? 20); i++) {
      const dropped = await drop(batch);
      total += dropped;
      if (dropped < batch) break;
    }
    return total;
  }
}
