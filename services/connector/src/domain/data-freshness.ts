import type { RunStatus } from './sync-run';

/** What SchoolCloud's data of a school is as of: the run that brought it up to date, and when it fetched. */
export interface FreshnessMove {
  /** The run's `fetchedAt`. */
  dataAsOf: Date;
  syncRunId: string;
  /** The run's place in the school's fetch order (absent on runs started before it was kept). */
  fetchSequence?: number;
}

/** What a finished run tells about the data now in SchoolCloud. */
export interface FreshnessRun {
  status: RunStatus;
  dryRun: boolean;
  fetchedAt?: Date;
  fetchSequence?: number;
  /** With `held` (and `discarded`, `superseded`): removals only (the rest applied) or the whole run (nothing applied). */
  holdKind?: 'removals' | 'whole_run';
  rosterCounts?: Record<string, unknown>;
}

const APPLIED_KINDS = ['added', 'updated', 'removed', 'restored'] as const;

/** True when the roster's per-type counts show at least one applied change. */
function appliedSomething(counts: Record<string, unknown> | undefined): boolean {
  if (counts === undefined) return false;
  return Object.values(counts).some((c) => {
    if (typeof c !== 'object' || c === null) return false;
    const byKind = c as Record<string, unknown>;
    return APPLIED_KINDS.some((k) => typeof byKind[k] === 'number' && (byKind[k] as number) > 0);
  });
}

/**
 * When the data a run leaves in SchoolCloud was fetched from iSAMS, or null when the run did not
 * bring SchoolCloud up to date. Applied and unchanged runs count; so does a run whose removals are
 * held, because its additions and updates were applied (only the held removals wait) — and still
 * once an admin discarded them or a later run superseded them. A run held whole (another school's
 * data), a failed, cancelled or dry run does not. A held report from a roster older than `holdKind`
 * counts when its counts show applied changes.
 */
export function dataAsOfOf(run: FreshnessRun): Date | null {
  if (run.dryRun || run.fetchedAt === undefined) return null;
  if (run.status === 'applied' || run.status === 'unchanged') return run.fetchedAt;
  if (run.status !== 'held' && run.status !== 'discarded' && run.status !== 'superseded') return null;
  if (run.holdKind === 'removals') return run.fetchedAt;
  if (run.holdKind === 'whole_run') return null;
  return appliedSomething(run.rosterCounts) ? run.fetchedAt : null;
}

/** {@link dataAsOfOf} with the run it comes from and its place in the fetch order; null likewise. */
export function freshnessMoveOf(run: FreshnessRun & { _id: string }): FreshnessMove | null {
  const dataAsOf = dataAsOfOf(run);
  if (dataAsOf === null) return null;
  return {
    dataAsOf,
    syncRunId: run._id,
    ...(run.fetchSequence === undefined ? {} : { fetchSequence: run.fetchSequence }),
  };
}

/** How long ago the enabled schools last had a good sync, all together (no school named). */
export interface SyncAgeSummary {
  /** Schools with syncing enabled. */
  enabled: number;
  /** Enabled schools without a good sync yet. */
  neverSynced: number;
  /** Enabled schools whose last good sync is older than the threshold. */
  stale: number;
  /** Seconds since the oldest last good sync of an enabled school (0 when none has one). */
  oldestAgeSeconds: number;
}

/**
 * Summarises the enabled schools' data-as-of times (`null`: no good sync yet) at `now`; a school
 * counts as stale when its data is older than `staleAfterMs` (the stale-data e-mail's threshold).
 */
export function summariseSyncAges(
  dataAsOf: ReadonlyArray<Date | null>,
  now: Date,
  staleAfterMs: number,
): SyncAgeSummary {
  let neverSynced = 0;
  let stale = 0;
  let oldestMs = 0;
  for (const at of dataAsOf) {
    if (at === null) {
      neverSynced += 1;
      continue;
    }
    const age = Math.max(0, now.getTime() - at.getTime());
    if (age > staleAfterMs) stale += 1;
    oldestMs = Math.max(oldestMs, age);
  }
  return { enabled: dataAsOf.length, neverSynced, stale, oldestAgeSeconds: oldestMs / 1000 };
}
