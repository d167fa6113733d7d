import { ROSTER_ENTITY_TYPES } from '@isams-sync/events';
import type { RosterEntityType } from '@isams-sync/events';
import type { RosterEntity } from './roster-model';

/** What the roster holds of one entity now (the fields undoing a run looks at). */
export interface CurrentEntity {
  entityType: RosterEntityType;
  entityId: string;
  status: 'active' | 'removed';
  data: RosterEntity;
  /** The run whose change is the entity's latest. */
  lastSyncRunId: string;
  graceUntil: string | null;
  purged: boolean;
}

/** Why an entity a run removed is not restored by undoing that run. */
export type UndoSkipReason = 'active_again' | 'removed_by_later_run' | 'purged';

export interface RunUndoPlan {
  /** Entities to restore with the image they had when removed, in catalogue order then id. */
  restore: Array<{ entityType: RosterEntityType; entityId: string; image: RosterEntity }>;
  skipped: Partial<Record<UndoSkipReason, number>>;
}

/**
 * Undoing a run restores every entity the run removed that is still removed **by that run** and
 * within its grace period (its personal data is kept until then). One that is active again (it
 * reappeared, or an earlier undo restored it), removed since by a later run (that run's undo is
 * the one to use), or purged / past its grace period is skipped and counted. Restoring an entity
 * restores it whole: dependents the run removed with it (memberships, contacts) were removed by the
 * same run, so they come back too.
 */
export function planRunUndo(input: {
  syncRunId: string;
  removedByRun: ReadonlyArray<{ entityType: RosterEntityType; entityId: string }>;
  current: (entityType: RosterEntityType, entityId: string) => CurrentEntity | undefined;
  now: Date;
}): RunUndoPlan {
  const skipped: Partial<Record<UndoSkipReason, number>> = {};
  const skip = (r: UndoSkipReason) => (skipped[r] = (skipped[r] ?? 0) + 1);
  const seen = new Set<string>();
  const restore: RunUndoPlan['restore'] = [];
  for (const { entityType, entityId } of input.removedByRun) {
    const key = `${entityType}/${entityId}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const e = input.current(entityType, entityId);
    if (e === undefined || e.purged) skip('purged');
    else if (e.status === 'active') skip('active_again');
    else if (e.lastSyncRunId !== input.syncRunId) skip('removed_by_later_run');
    else if (e.graceUntil !== null && input.now.getTime() > new Date(e.graceUntil).getTime()) skip('purged');
    else restore.push({ entityType, entityId, image: e.data });
  }
  const order = new Map(ROSTER_ENTITY_TYPES.map((t, i) => [t, i]));
  restore.sort(
    (a, b) =>
      order.get(a.entityType)! - order.get(b.entityType)! ||
      (a.entityId < b.entityId ? -1 : a.entityId > b.entityId ? 1 : 0),
  );
  return { restore, skipped };
}
