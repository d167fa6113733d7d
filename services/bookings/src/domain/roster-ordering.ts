import type { PersonKind } from './booking-model';

/** What bookings last applied for one person (per tenant). */
export interface PersonRosterState {
  kind: PersonKind;
  personId: string;
  state: 'removed' | 'present';
  /** The applied roster event's CloudEvent `time` — the ordering key. */
  changedAt: Date;
  rosterEventId: string;
  /** On `removed`: the removal's grace deadline. */
  graceUntil?: Date;
}

/**
 * True when a roster change is older than the one already applied for the person, so applying it
 * would undo newer state (a replayed `removed` after a `restored`). Ordering key: the CloudEvent
 * `time` of the roster change (the roster sets it to when the change was applied, identical on
 * re-sends); ties fall back to the event id so the outcome does not depend on arrival order.
 */
export function isStaleChange(
  current: PersonRosterState | undefined,
  changedAt: Date,
  rosterEventId: string,
): boolean {
  if (!current) return false;
  const a = current.changedAt.getTime();
  const b = changedAt.getTime();
  if (b !== a) return b < a;
  return rosterEventId < current.rosterEventId;
}
