import type { RunStatus } from './sync-run';

/** What a finished run tells about the data now in SchoolCloud. */
export interface FreshnessRun {
  status: RunStatus;
  dryRun: boolean;
  fetchedAt?: Date;
  /** With `held`: removals only (the rest applied) or the whole run (nothing applied). */
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
 * held, because its additions and updates were applied (only the held removals wait). A run held
 * whole (another school's data), a failed, cancelled or dry run does not. A held report from a
 * roster older than `holdKind` counts when its counts show applied changes.
 */
export function dataAsOfOf(run: FreshnessRun): Date | null {
  if (run.dryRun || run.fetchedAt === undefined) return null;
  if (run.status === 'applied' || run.status === 'unchanged') return run.fetchedAt;
  if (run.status !== 'held') return null;
  if (run.holdKind === 'removals') return run.fetchedAt;
  if (run.holdKind === 'whole_run') return null;
  return appliedSomething(run.rosterCounts) ? run.fetchedAt : null;
}
