import type { RosterChange, RosterEntityType } from '@isams-sync/events';
import type { PlannedChange } from './diff';

/** Counts of one entity type, in the `sync.runs.v1` shape. */
export interface ChangeCounts {
  added: number;
  updated: number;
  removed: number;
  restored: number;
  held: number;
  unchanged: number;
  skipped: number;
}

const zero = (): ChangeCounts => ({
  added: 0,
  updated: 0,
  removed: 0,
  restored: 0,
  held: 0,
  unchanged: 0,
  skipped: 0,
});

/**
 * Per entity type counts of a run: applied changes by kind, held changes (removals, dependents,
 * or every change of a run held whole), unchanged = incoming entities with no change, applied
 * or held, and skipped = source records normalisation did not import. Types with nothing to
 * report are omitted.
 */
export function countChanges(
  applied: readonly PlannedChange[],
  held: readonly PlannedChange[],
  incomingCounts: Partial<Record<RosterEntityType, number>>,
  skipped: Partial<Record<RosterEntityType, number>> = {},
): Partial<Record<RosterEntityType, ChangeCounts>> {
  const out: Partial<Record<RosterEntityType, ChangeCounts>> = {};
  const of = (t: RosterEntityType): ChangeCounts => (out[t] ??= zero());
  const changedIncoming = new Map<RosterEntityType, Set<string>>();
  const touched = (c: PlannedChange) => {
    if (c.change === 'removed') return;
    const ids = changedIncoming.get(c.entityType) ?? new Set<string>();
    ids.add(c.entityId);
    changedIncoming.set(c.entityType, ids);
  };
  for (const c of applied) {
    of(c.entityType)[c.change satisfies RosterChange] += 1;
    touched(c);
  }
  for (const c of held) {
    of(c.entityType).held += 1;
    touched(c);
  }
  for (const [t, n] of Object.entries(incomingCounts) as [RosterEntityType, number][]) {
    of(t).unchanged = Math.max(0, n - (changedIncoming.get(t)?.size ?? 0));
  }
  for (const [t, n] of Object.entries(skipped) as [RosterEntityType, number][]) if (n > 0) of(t).skipped = n;
  return out;
}
