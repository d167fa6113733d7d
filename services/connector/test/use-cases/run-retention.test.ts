import { createLogger } from '@isams-sync/logger';
import { describe, expect, it } from 'vitest';
import { RUN_BOOKKEEPING_RETENTION_MS } from '../../src/domain/run-retention';
import { IN_FLIGHT_STATUSES, TERMINAL_STATUSES } from '../../src/domain/sync-run';
import type { RunStatus } from '../../src/domain/sync-run';
import { RunRetention } from '../../src/use-cases/run-retention';
import type { AgedRecords, RunRetentionStore } from '../../src/use-cases/ports';

// The retention prune on a store that holds `n` documents past each cut-off: what it asks the store
// to drop (the cut-offs), and how it goes through a backlog in batches. What "ended" means on the
// database is the repository's (test/int/run-retention.int.test.ts).

const NOW = new Date('2027-03-01T12:00:00Z');
const DAY = 24 * 3_600_000;
const logger = createLogger({ service: 'run-retention', level: 'silent' });

class BacklogStore implements RunRetentionStore {
  readonly calls: Array<{ kind: 'bookkeeping' | 'runs'; before: Date; limit: number }> = [];
  constructor(
    public bookkeeping: number,
    public runs: number,
  ) {}

  dropEndedBookkeeping(before: Date, limit: number): Promise<number> {
    this.calls.push({ kind: 'bookkeeping', before, limit });
    const n = Math.min(limit, this.bookkeeping);
    this.bookkeeping -= n;
    return Promise.resolve(n);
  }

  dropEndedRuns(before: Date, limit: number): Promise<number> {
    this.calls.push({ kind: 'runs', before, limit });
    const n = Math.min(limit, this.runs);
    this.runs -= n;
    return Promise.resolve(n);
  }
}

/** Records dated by the day they were made; a drop takes those before the cut-off. */
class DatedRecords implements AgedRecords {
  readonly cutOffs: Date[] = [];
  constructor(public dates: Date[] = []) {}

  dropOlderThan(before: Date): Promise<number> {
    this.cutOffs.push(before);
    const kept = this.dates.filter((d) => d >= before);
    const dropped = this.dates.length - kept.length;
    this.dates = kept;
    return Promise.resolve(dropped);
  }
}

const retention = (
  store: RunRetentionStore,
  maxBatches = 20,
  aged: { settingsAudit?: DatedRecords; notifications?: DatedRecords } = {},
) =>
  new RunRetention(
    {
      runs: store,
      settingsAudit: aged.settingsAudit ?? new DatedRecords(),
      notifications: aged.notifications ?? new DatedRecords(),
    },
    logger,
    {
      historyMs: 400 * DAY,
      auditMs: 730 * DAY,
      intervalMs: 3_600_000,
      batch: 10,
      maxBatches,
      now: () => NOW,
    },
  );
const none = { settingsAudit: 0, notifications: 0 };

describe('run retention', () => {
  it('every status is either in flight (nothing of the run dropped) or ended, never both', () => {
    // A status added to RunStatus without a place here fails to compile.
    const all: Record<RunStatus, true> = {
      requested: true,
      fetching: true,
      fetched: true,
      published: true,
      applying: true,
      applied: true,
      unchanged: true,
      held: true,
      failed: true,
      cancelled: true,
      discarded: true,
      superseded: true,
    };
    expect([...IN_FLIGHT_STATUSES, ...TERMINAL_STATUSES].sort()).toEqual(Object.keys(all).sort());
  });

  it('drops bookkeeping a day old and runs requested more than the history ago, each batch after a full one', async () => {
    const store = new BacklogStore(25, 7);
    expect(await retention(store).prune()).toEqual({ bookkeeping: 25, runs: 7, ...none });
    expect(store.calls.map((c) => c.kind)).toEqual(['bookkeeping', 'bookkeeping', 'bookkeeping', 'runs']);
    const cutOff = (kind: string) =>
      new Set(store.calls.filter((c) => c.kind === kind).map((c) => c.before.getTime()));
    expect(cutOff('bookkeeping')).toEqual(new Set([NOW.getTime() - RUN_BOOKKEEPING_RETENTION_MS]));
    expect(RUN_BOOKKEEPING_RETENTION_MS).toBe(DAY);
    expect(cutOff('runs')).toEqual(new Set([NOW.getTime() - 400 * DAY]));
    expect(store.calls.every((c) => c.limit === 10)).toBe(true);
  });

  it('a backlog larger than one prune’s batches is left for the next prune; nothing to drop asks once each', async () => {
    const store = new BacklogStore(0, 45);
    const r = retention(store, 2);
    expect(await r.prune()).toEqual({ bookkeeping: 0, runs: 20, ...none });
    expect(await r.prune()).toEqual({ bookkeeping: 0, runs: 20, ...none });
    expect(await r.prune()).toEqual({ bookkeeping: 0, runs: 5, ...none });
    store.calls.length = 0;
    expect(await r.prune()).toEqual({ bookkeeping: 0, runs: 0, ...none });
    expect(store.calls.map((c) => c.kind)).toEqual(['bookkeeping', 'runs']);
  });

  it('drops address changes older than the audit retention and notification claims older than the history', async () => {
    const ago = (days: number) => new Date(NOW.getTime() - days * DAY);
    const settingsAudit = new DatedRecords([ago(731), ago(729), ago(1)]);
    const notifications = new DatedRecords([ago(401), ago(399), ago(1)]);
    expect(await retention(new BacklogStore(0, 0), 20, { settingsAudit, notifications }).prune()).toEqual({
      bookkeeping: 0,
      runs: 0,
      settingsAudit: 1,
      notifications: 1,
    });
    expect(settingsAudit.cutOffs).toEqual([ago(730)]);
    expect(notifications.cutOffs).toEqual([ago(400)]);
    expect(settingsAudit.dates).toEqual([ago(729), ago(1)]);
    expect(notifications.dates).toEqual([ago(399), ago(1)]);
  });
});
