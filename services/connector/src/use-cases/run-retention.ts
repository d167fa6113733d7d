import type { Logger } from '@isams-sync/logger';
import { startPeriodic } from '@isams-sync/runtime';
import type { PeriodicTask } from '@isams-sync/runtime';
import { RUN_BOOKKEEPING_RETENTION_MS } from '../domain/run-retention';
import type { AgedRecords, RunRetentionStore } from './ports';

/** What the retention prunes. */
export interface RunRetentionStores {
  runs: RunRetentionStore;
  /** The address-change audit (`settings_audit`), kept `auditMs`. */
  settingsAudit: AgedRecords;
  /** The notification claims (`notifications`), kept `historyMs`. */
  notifications: AgedRecords;
}

export interface RunRetentionOptions {
  /** Runs (and notification claims) are kept this long after they were made (`RUN_HISTORY_DAYS`). */
  historyMs: number;
  /** Address changes are kept this long after they were made (`AUDIT_RETENTION_DAYS`). */
  auditMs: number;
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
  settingsAudit: number;
  notifications: number;
}

/**
 * Drops what the connector keeps once it is no longer kept (domain/run-retention): ended runs' step
 * claims and kept reports a day after they ended, the runs `RUN_HISTORY_DAYS` after they were
 * requested, notification claims `RUN_HISTORY_DAYS` after they were made and address changes
 * `AUDIT_RETENTION_DAYS` after they were made. Runs and their bookkeeping in batches, so one prune
 * never holds the database long; a backlog (a first prune after an upgrade) goes over the next
 * prunes. The audit and the claims are small (a few per school a year) and go in one sweep each.
 */
export class RunRetention {
  private task: PeriodicTask | undefined;
  private readonly now: () => Date;

  constructor(
    private readonly stores: RunRetentionStores,
    private readonly logger: Logger,
    private readonly opts: RunRetentionOptions,
  ) {
    this.now = opts.now ?? (() => new Date());
  }

  start(): void {
    this.task = startPeriodic(() => this.prune(), {
      name: 'run retention',
      intervalMs: this.opts.intervalMs,
      // A minute after the start: a replica restarted more often than hourly prunes too.
      firstRunAfterMs: Math.min(this.opts.intervalMs, 60_000),
      logger: this.logger,
    });
  }

  async stop(): Promise<void> {
    await this.task?.stop();
  }

  async prune(): Promise<PruneOutcome> {
    const now = this.now().getTime();
    const { runs: store } = this.stores;
    const bookkeeping = await this.drain((limit) =>
      store.dropEndedBookkeeping(new Date(now - RUN_BOOKKEEPING_RETENTION_MS), limit),
    );
    const runs = await this.drain((limit) => store.dropEndedRuns(new Date(now - this.opts.historyMs), limit));
    const notifications = await this.stores.notifications.dropOlderThan(new Date(now - this.opts.historyMs));
    const settingsAudit = await this.stores.settingsAudit.dropOlderThan(new Date(now - this.opts.auditMs));
    const outcome = { bookkeeping, runs, settingsAudit, notifications };
    if (bookkeeping + runs + settingsAudit + notifications > 0)
      this.logger.info(outcome, 'records past their retention dropped');
    return outcome;
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
