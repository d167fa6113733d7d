import type { CloudEvent, RosterChangeData, RosterRevision } from '@isams-sync/events';
import type { PersonKind } from './booking-model';

/** Where a roster change stands among a person's changes (its ordering key). */
export interface ChangeOrder {
  /** The roster change's CloudEvent `time`: the order of two changes when one has no revision. */
  changedAt: Date;
  rosterEventId: string;
  /** The change's revision (absent on changes applied before the roster published revisions). */
  revision?: RosterRevision;
}

/** What bookings last applied for one person (per tenant). */
export interface PersonRosterState extends ChangeOrder {
  kind: PersonKind;
  personId: string;
  state: 'removed' | 'present';
  /** On `removed`: the removal's grace deadline. */
  graceUntil?: Date;
}

/** The ordering key of a roster change event. */
export function changeOrderOf(event: CloudEvent<RosterChangeData>): ChangeOrder {
  const revision = event.data.revision;
  return { changedAt: new Date(event.time), rosterEventId: event.id, ...(revision ? { revision } : {}) };
}

/**
 * True when a roster change is older than the one already applied for the person, so applying it
 * would undo newer state (a replayed `removed` after a `restored`, or a replica that stalled). When
 * both carry a revision (the school's changeset, then the change's place in it) the revisions order
 * them: the roster numbers a school's changesets one at a time, whichever replica applied them, so
 * their clocks do not matter. When either has none (applied before revisions existed) the CloudEvent
 * `time` orders them — when the roster replica applied the change, by its clock. Ties fall back to
 * the event id so the outcome does not depend on arrival order; the same change is never stale.
 */
export function isStaleChange(current: ChangeOrder | undefined, change: ChangeOrder): boolean {
  if (!current) return false;
  const byKey = compareKeys(current, change);
  if (byKey !== 0) return byKey > 0;
  return change.rosterEventId < current.rosterEventId;
}

/** `current`'s key against `change`'s: revisions when both have one, else times. */
function compareKeys(current: ChangeOrder, change: ChangeOrder): number {
  if (current.revision && change.revision)
    return (
      current.revision.changeset - change.revision.changeset ||
      current.revision.change - change.revision.change
    );
  return current.changedAt.getTime() - change.changedAt.getTime();
}
