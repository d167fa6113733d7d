import { describe, expect, it } from 'vitest';
import { dataAsOfOf } from '../../src/domain/data-freshness';
import type { FreshnessRun } from '../../src/domain/data-freshness';
import {
  dataStaleMessage,
  failureStreak,
  isStale,
  localDay,
  removalsHeldMessage,
  runsFailingMessage,
} from '../../src/domain/notifications';
import type { StreakRun } from '../../src/domain/notifications';

const fetchedAt = new Date('2026-12-01T08:00:00Z');
const run = (r: Partial<FreshnessRun>): FreshnessRun => ({
  status: 'applied',
  dryRun: false,
  fetchedAt,
  ...r,
});
const counts = (added: number, held: number) => ({
  pupil: { added, updated: 0, removed: 0, restored: 0, held, unchanged: 0, skipped: 0 },
});

describe('data as of: which finished runs bring SchoolCloud up to date', () => {
  it('applied and unchanged runs count; failed, cancelled and dry runs do not', () => {
    expect(dataAsOfOf(run({ status: 'applied' }))).toEqual(fetchedAt);
    expect(dataAsOfOf(run({ status: 'unchanged' }))).toEqual(fetchedAt);
    expect(dataAsOfOf(run({ status: 'failed' }))).toBeNull();
    expect(dataAsOfOf(run({ status: 'cancelled' }))).toBeNull();
    expect(dataAsOfOf(run({ status: 'applied', dryRun: true }))).toBeNull();
    expect(dataAsOfOf(run({ status: 'applied', fetchedAt: undefined }))).toBeNull();
  });
  it('a run with held removals counts (its additions and updates applied); a run held whole does not', () => {
    expect(dataAsOfOf(run({ status: 'held', holdKind: 'removals', rosterCounts: counts(0, 9) }))).toEqual(
      fetchedAt,
    );
    expect(
      dataAsOfOf(run({ status: 'held', holdKind: 'whole_run', rosterCounts: counts(0, 300) })),
    ).toBeNull();
  });
  it('discarding the held changes takes nothing back: a removals hold still counts, a whole-run hold still does not', () => {
    expect(
      dataAsOfOf(run({ status: 'discarded', holdKind: 'removals', rosterCounts: counts(0, 9) })),
    ).toEqual(fetchedAt);
    expect(
      dataAsOfOf(run({ status: 'discarded', holdKind: 'whole_run', rosterCounts: counts(0, 300) })),
    ).toBeNull();
  });
  it('a held report without a hold kind (an older roster) counts only when something was applied', () => {
    expect(dataAsOfOf(run({ status: 'held', rosterCounts: counts(3, 9) }))).toEqual(fetchedAt);
    expect(dataAsOfOf(run({ status: 'held', rosterCounts: counts(0, 9) }))).toBeNull();
  });
});

describe('failure streak', () => {
  const failed = (code: string): StreakRun => ({
    status: 'failed',
    dryRun: false,
    error: { code, message: `${code} happened`, adminAction: `Fix ${code}`, transient: false },
  });
  const ok: StreakRun = { status: 'applied', dryRun: false };
  it('the same code N times in a row, newest first', () => {
    expect(failureStreak([failed('A'), failed('A'), failed('A'), ok], 3)?.code).toBe('A');
    expect(failureStreak([failed('A'), failed('A'), ok, failed('A')], 3)).toBeNull();
    expect(failureStreak([failed('A'), failed('B'), failed('A')], 3)).toBeNull();
    expect(failureStreak([failed('A'), failed('A')], 3)).toBeNull();
  });
  it('dry runs and cancelled runs are skipped, not streak breakers', () => {
    const dry: StreakRun = { status: 'applied', dryRun: true };
    const cancelled: StreakRun = { status: 'cancelled', dryRun: false };
    expect(failureStreak([failed('A'), dry, failed('A'), cancelled, failed('A')], 3)?.code).toBe('A');
  });
  it('a run held, and one whose held batch was later approved, discarded or superseded, breaks it', () => {
    for (const status of ['held', 'applied', 'discarded', 'superseded'] as const)
      expect(
        failureStreak([failed('A'), { status, dryRun: false }, failed('A'), failed('A')], 3),
        status,
      ).toBeNull();
  });
});

describe('old data', () => {
  const now = new Date('2026-12-03T08:00:00Z');
  const day = 24 * 3_600_000;
  it('stale after the limit since the last good sync, or since set-up when there was none', () => {
    const base = { enabled: true, configuredAt: new Date('2026-11-01T00:00:00Z'), now, staleAfterMs: day };
    expect(isStale({ ...base, dataAsOf: new Date(now.getTime() - day - 1) })).toBe(true);
    expect(isStale({ ...base, dataAsOf: new Date(now.getTime() - day) })).toBe(false);
    expect(isStale({ ...base, dataAsOf: null })).toBe(true);
    expect(isStale({ ...base, dataAsOf: null, configuredAt: new Date(now.getTime() - 60_000) })).toBe(false);
  });
  it('a paused school is never stale', () => {
    expect(
      isStale({ enabled: false, dataAsOf: null, configuredAt: new Date(0), now, staleAfterMs: day }),
    ).toBe(false);
  });
});

describe('the school day', () => {
  it('is the local calendar day of the school', () => {
    // 23:30 UTC on 30 June is already 1 July in London (BST) but still 30 June in New York.
    const at = new Date('2026-06-30T23:30:00Z');
    expect(localDay(at, 'Europe/London')).toBe('2026-07-01');
    expect(localDay(at, 'America/New_York')).toBe('2026-06-30');
    expect(localDay(at, 'Not/AZone')).toBe('2026-07-01');
  });
});

describe('messages: counts, codes and links; no names', () => {
  it('held removals', () => {
    const m = removalsHeldMessage({
      schoolId: 's1',
      holdKind: 'removals',
      heldByType: { pupil: 12, contact: 20 },
      heldBatchId: 'batch/1',
      at: fetchedAt,
      timeZone: 'Europe/London',
      dashboardUrl: 'https://dash.example/',
    });
    expect(m.subject).toBe('iSAMS sync (s1): 32 removals held for your approval');
    expect(m.text).toContain('https://dash.example/#/held/batch%2F1');
    expect(m.text).toContain('  - contact: 20\n  - pupil: 12');
    const whole = removalsHeldMessage({
      schoolId: 's1',
      holdKind: 'whole_run',
      heldByType: { pupil: 300 },
      at: fetchedAt,
      timeZone: 'Europe/London',
    });
    expect(whole.subject).toBe('iSAMS sync (s1): a whole sync is held for your review');
    expect(whole.text).toContain("looks like another school's");
  });
  it('failing runs carry the admin action; old data names its age', () => {
    const error = {
      code: 'ISAMS_IP_NOT_ALLOWED',
      message: 'Refused',
      adminAction: 'Allow-list',
      transient: false,
    };
    const f = runsFailingMessage({
      schoolId: 's1',
      streak: 3,
      error,
      at: fetchedAt,
      timeZone: 'Europe/London',
    });
    expect(f.subject).toBe('iSAMS sync (s1): the last 3 syncs failed (ISAMS_IP_NOT_ALLOWED)');
    expect(f.text).toContain('What to do: Allow-list');
    const s = dataStaleMessage({
      schoolId: 's1',
      dataAsOf: null,
      staleAfterHours: 24,
      timeZone: 'Europe/London',
    });
    expect(s.text).toContain('has not received any data from iSAMS yet');
  });
});
