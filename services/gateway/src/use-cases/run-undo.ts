import type { BookingsGateway } from './ports';
import type { PersonRef, ReinstatementLine } from '../domain/models/bookings.models';
import type { RunUndo } from '../domain/models/roster.models';
import type { CallContext } from '../domain/principal';

const PEOPLE: Record<string, PersonRef['kind'] | undefined> = {
  pupil: 'pupil',
  staff: 'staff',
  contact: 'contact',
};

export interface RunUndoWithBookings {
  undo: RunUndo;
  bookings: {
    lines: ReinstatementLine[];
    /** Reinstated already (after the undo). */
    reinstated: number;
    /** Would be reinstated (before the undo, or while the bookings service works through it). */
    canReinstate: number;
    /** Cannot be reinstated, by reason (slot taken, event finished, …). */
    notReinstated: Array<{ reason: string; count: number }>;
  };
}

/**
 * A run's undo (from the roster: whom undoing restores, or restored) with its booking impact: the
 * bookings service says, for each booking the run's removals cancelled, whether restoring those
 * people reinstates it (or did) and why not.
 */
export async function runUndoWithBookings(
  bookings: BookingsGateway,
  ctx: CallContext,
  undo: RunUndo,
): Promise<RunUndoWithBookings> {
  const restoring: PersonRef[] = [];
  for (const r of undo.restore) {
    const kind = PEOPLE[r.entityType];
    if (kind) restoring.push({ kind, id: r.entityId });
  }
  const lines = await bookings.runReinstatementReport(ctx, { syncRunId: undo.syncRunId, restoring });
  const why = new Map<string, number>();
  for (const l of lines)
    if (l.outcome !== 'reinstated' && l.outcome !== 'can_reinstate')
      why.set(l.outcome, (why.get(l.outcome) ?? 0) + 1);
  return {
    undo,
    bookings: {
      lines,
      reinstated: lines.filter((l) => l.outcome === 'reinstated').length,
      canReinstate: lines.filter((l) => l.outcome === 'can_reinstate').length,
      notReinstated: [...why].map(([reason, count]) => ({ reason, count })),
    },
  };
}
