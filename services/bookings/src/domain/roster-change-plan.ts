import type { CloudEvent, RosterChangeData } from '@isams-sync/events';
import { cancellationHeldEvent, cancelledEvent } from './booking-events';
import type { Booking, HistoryEntry, NotReinstatedReason, PersonKind, RosterCause } from './booking-model';
import { personOf } from './booking-model';
import type { BatchRemoval, RemovalDecision, RestoreInput } from './removal-decision';
import {
  cancellationReasonFor,
  heldEntry,
  remainingHoldCauses,
  removalCancellation,
} from './removal-decision';
import type { PersonRosterState } from './roster-ordering';
import { changeOrderOf, isStaleChange } from './roster-ordering';

/**
 * What roster change events mean for bookings, as plain data: which events bookings acts on, how a
 * Kafka batch of them is cut into steps, what a removal or a restore writes. The use-case
 * (`use-cases/roster-change.use-case.ts`) reads the store, calls these, and carries the result out.
 */

type RosterChangeEvent = CloudEvent<RosterChangeData>;

/** What one roster change did (for logs, metrics and the processed-event record). */
export interface RosterChangeOutcome {
  status: 'applied' | 'duplicate' | 'stale' | 'ignored';
  cancelled: number;
  held: number;
  reinstated: number;
  notReinstated: number;
}

/** The outcome of an applied removal. */
export function removalApplied(cancelled: number, held: number): RosterChangeOutcome {
  return { status: 'applied', cancelled, held, reinstated: 0, notReinstated: 0 };
}

/** The outcome of a change that changed nothing. */
export function unchanged(status: 'duplicate' | 'stale' | 'ignored'): RosterChangeOutcome {
  return { status, cancelled: 0, held: 0, reinstated: 0, notReinstated: 0 };
}

const PEOPLE: ReadonlySet<string> = new Set(['pupil', 'staff', 'contact']);

/** Bookings acts on people (pupils, staff, contacts) being removed or restored; on nothing else. */
export function concernsBookings(data: Pick<RosterChangeData, 'entityType' | 'change'>): boolean {
  return PEOPLE.has(data.entityType) && (data.change === 'removed' || data.change === 'restored');
}

/**
 * What is wrong with a roster change bookings acts on, given the change its event type names (empty:
 * nothing). The contract's schemas are looser than the roster's guarantee (docs/events.md › What each
 * change guarantees): they let `data.change` disagree with the type and a removal come without its
 * `removal`. Such an event is not what it claims to be, so it must neither cancel nor reinstate: a
 * `…restored.v1` saying `removed` would cancel, a `…removed.v1` saying `restored` would reinstate, and
 * a removal without its reason and grace deadline would cancel for good (no grace, no reinstatement).
 * The fields bookings does not read (`before`, `after`, `changedFields`) are not required. The
 * problems name fields, never values (they are logged and kept in the dead letter).
 */
export function rosterChangeProblems(
  typeChange: 'removed' | 'restored',
  data: Pick<RosterChangeData, 'change' | 'removal'>,
): string[] {
  const problems: string[] = [];
  if (data.change !== typeChange)
    problems.push(`data.change "${data.change}" disagrees with the event type's "${typeChange}"`);
  if (typeChange === 'removed' && data.change === 'removed' && !data.removal)
    problems.push('data.removal is missing (a removal names its reason and grace deadline)');
  return problems;
}

/** The person a roster change is about. */
export function personOfChange(event: RosterChangeEvent): { kind: PersonKind; personId: string } {
  return { kind: event.data.entityType as PersonKind, personId: event.data.entityId };
}

/** One step of a batch: removals of distinct people applied together, or one event applied alone. */
export type BatchStep = { apply: 'removals'; indexes: number[] } | { apply: 'alone'; index: number };

/**
 * Cuts a batch of roster change events (in order) into steps with the outcome of applying them one by
 * one: consecutive removals of distinct people form one group; a `restored` (rare in a burst) is
 * applied alone, in its place; a person removed twice starts a new group. Events bookings does not
 * act on are in no step (their outcome is `ignored`).
 */
export function planBatch(events: readonly RosterChangeEvent[]): BatchStep[] {
  const steps: BatchStep[] = [];
  let group: number[] = [];
  const people = new Set<string>();
  const closeGroup = () => {
    if (group.length > 0) steps.push({ apply: 'removals', indexes: group });
    group = [];
    people.clear();
  };
  for (const [index, event] of events.entries()) {
    const data = event.data;
    if (!concernsBookings(data)) continue;
    if (data.change === 'restored') {
      closeGroup();
      steps.push({ apply: 'alone', index });
      continue;
    }
    const key = `${event.tenantid}|${data.entityType}|${data.entityId}`;
    if (people.has(key)) closeGroup();
    group.push(index);
    people.add(key);
  }
  closeGroup();
  return steps;
}

/** The positions of the events of each school, in order (every query and write names its school). */
export function indexesBySchool(
  events: ReadonlyArray<Pick<RosterChangeEvent, 'tenantid'>>,
): Map<string, number[]> {
  const byTenant = new Map<string, number[]>();
  for (const [i, e] of events.entries()) byTenant.set(e.tenantid, [...(byTenant.get(e.tenantid) ?? []), i]);
  return byTenant;
}

/** The removal a `removed` roster change stands for (reason, grace deadline and its cause). */
export function removalOf(event: RosterChangeEvent): BatchRemoval {
  const { kind, personId } = personOfChange(event);
  const { removal, revision } = event.data;
  const graceUntil = removal?.graceUntil ? new Date(removal.graceUntil) : undefined;
  const cause: RosterCause = {
    rosterEventId: event.id,
    personKind: kind,
    personId,
    at: new Date(event.time),
    syncRunId: event.data.syncRunId,
    ...(removal?.heldBatchId ? { heldBatchId: removal.heldBatchId } : {}),
  };
  return {
    kind,
    personId,
    reason: removal?.reason ?? 'absent_from_feed',
    rosterEventId: event.id,
    cause,
    ...(graceUntil ? { graceUntil } : {}),
    ...(revision ? { revision } : {}),
  };
}

/** The restore a `restored` roster change stands for, and the cause its outcome events name. */
export function restoreOf(event: RosterChangeEvent): { restore: RestoreInput; cause: RosterCause } {
  const { kind, personId } = personOfChange(event);
  const at = new Date(event.time);
  const revision = event.data.revision;
  return {
    restore: { kind, personId, rosterEventId: event.id, at, ...(revision ? { revision } : {}) },
    cause: { rosterEventId: event.id, personKind: kind, personId, at, syncRunId: event.data.syncRunId },
  };
}

/** A removal of a batch and the roster change event it comes from. */
export interface BatchRemovalOf {
  event: RosterChangeEvent;
  removal: BatchRemoval;
}

/**
 * Sorts the removals of one school's batch: already processed → `duplicate`; older than the person's
 * applied state → `stale` ({@link isStaleChange}); the others are to be applied, in order.
 * `states` holds the applied states of the people of the events not processed yet.
 */
export function sortRemovals(
  events: readonly RosterChangeEvent[],
  processed: ReadonlySet<string>,
  states: ReadonlyMap<string, PersonRosterState>,
): { outcomes: Map<string, RosterChangeOutcome>; removals: BatchRemovalOf[] } {
  const outcomes = new Map<string, RosterChangeOutcome>();
  const removals: BatchRemovalOf[] = [];
  for (const e of events) {
    if (processed.has(e.id)) outcomes.set(e.id, unchanged('duplicate'));
    else if (isStaleChange(states.get(`${e.data.entityType}:${e.data.entityId}`), changeOrderOf(e)))
      outcomes.set(e.id, unchanged('stale'));
    else removals.push({ event: e, removal: removalOf(e) });
  }
  return { outcomes, removals };
}

/** The history entry of a booking a removal cancels. */
export function cancelledEntry(removal: BatchRemoval): HistoryEntry {
  return {
    at: removal.cause.at,
    action: 'cancelled',
    reason: cancellationReasonFor(removal.reason),
    rosterEventId: removal.rosterEventId,
  };
}

/** The cancellations of a batch's decisions (`decisions[k]` is `removals[k]`'s), as one bulk write. */
export function cancellationsOf(
  removals: readonly BatchRemoval[],
  decisions: readonly RemovalDecision[],
): Array<{ booking: Booking; cancellation: NonNullable<Booking['cancellation']>; entry: HistoryEntry }> {
  return decisions.flatMap((d, k) => {
    const removal = removals[k]!;
    return d.cancel.map((booking) => ({
      booking,
      cancellation: removalCancellation(removal),
      entry: cancelledEntry(removal),
    }));
  });
}

/**
 * The holds a removal still has to write: each held booking not yet pending by this very removal (a
 * re-run after a crash skips those), with its causes after the hold and the history entry.
 */
export function holdsToWrite(
  removal: BatchRemoval,
  decision: Pick<RemovalDecision, 'hold'>,
): Array<{ booking: Booking; causes: RosterCause[]; entry: HistoryEntry }> {
  return decision.hold.flatMap((booking) => {
    const causes = booking.pendingCancellation?.causes ?? [];
    if (causes.some((c) => c.rosterEventId === removal.rosterEventId)) return [];
    return [{ booking, causes: [...causes, removal.cause], entry: heldEntry(removal) }];
  });
}

/**
 * The evenings in which a removal holds bookings: those its decision holds, and those already held by
 * it (a re-run after a crash, when the evening may have ended since). After writing its holds the
 * consumer looks at these evenings again: one that ended meanwhile — its resolution may have run
 * before the hold was written — is resolved by the consumer, so no hold is left behind.
 */
export function eveningsHeldBy(
  removal: Pick<BatchRemoval, 'rosterEventId'>,
  decision: Pick<RemovalDecision, 'hold'>,
  bookings: readonly Booking[],
): string[] {
  const heldByIt = bookings.filter(
    (b) =>
      b.status === 'booked' &&
      b.pendingCancellation?.causes.some((c) => c.rosterEventId === removal.rosterEventId),
  );
  return [...new Set([...decision.hold, ...heldByIt].map((b) => b.eventId))];
}

/** The bookings cancelled, by the roster event that cancelled them. */
export function byCancellingEvent(cancelled: readonly Booking[]): Map<string, Booking[]> {
  const by = new Map<string, Booking[]>();
  for (const b of cancelled) {
    const id = b.cancellation!.roster!.rosterEventId;
    by.set(id, [...(by.get(id) ?? []), b]);
  }
  return by;
}

/**
 * The events one removal of a batch publishes, in order: its cancellations re-published after a
 * crash (`decision.republish`; a booking it also held gets its hold's event first), those its write
 * just cancelled (`cancelledByIt`), its holds, then its holds that were cancelled since
 * (`decision.republishHeld`, a crash re-run: in the place of a hold, with the hold's id).
 */
export function removalEvents(
  tenantId: string,
  removal: BatchRemoval,
  decision: Pick<RemovalDecision, 'republish' | 'hold' | 'republishHeld'>,
  cancelledByIt: readonly Booking[],
): CloudEvent[] {
  const held = (b: Booking) => cancellationHeldEvent(tenantId, b, removal.cause);
  const heldAgain = new Set(decision.republishHeld.map((b) => b.id));
  const republished = new Set(decision.republish.map((b) => b.id));
  return [
    ...decision.republish.flatMap((b) =>
      heldAgain.has(b.id) ? [held(b), cancelledEvent(tenantId, b)] : [cancelledEvent(tenantId, b)],
    ),
    ...cancelledByIt.map((b) => cancelledEvent(tenantId, b)),
    ...decision.hold.map(held),
    ...decision.republishHeld.filter((b) => !republished.has(b.id)).map(held),
  ];
}

/** The person state a removal leaves. */
export function removedState(removal: BatchRemoval): PersonRosterState {
  return {
    kind: removal.kind,
    personId: removal.personId,
    state: 'removed',
    changedAt: removal.cause.at,
    rosterEventId: removal.rosterEventId,
    ...(removal.revision ? { revision: removal.revision } : {}),
    ...(removal.graceUntil ? { graceUntil: removal.graceUntil } : {}),
  };
}

/** The person state a restore leaves. */
export function presentState(restore: RestoreInput): PersonRosterState {
  return {
    kind: restore.kind,
    personId: restore.personId,
    state: 'present',
    changedAt: restore.at,
    rosterEventId: restore.rosterEventId,
    ...(restore.revision ? { revision: restore.revision } : {}),
  };
}

/**
 * What a restore does to a booking held by removals: nothing (not held by this person), `clear` the
 * hold (no removal holds it any more) or `narrow` it to the causes left; `republish` when this very
 * restore cleared it before (its `hold_cleared` history entry names the restore: a re-run after a
 * crash before the release event went out — publish it again, same id).
 */
export function holdRelease(
  booking: Booking,
  restore: Pick<RestoreInput, 'kind' | 'personId' | 'rosterEventId'>,
):
  | { release: 'none' }
  | { release: 'clear' }
  | { release: 'republish' }
  | { release: 'narrow'; causes: RosterCause[] } {
  if (booking.status === 'booked' && booking.pendingCancellation) {
    const remaining = remainingHoldCauses(booking, restore);
    if (remaining.length < booking.pendingCancellation.causes.length)
      return remaining.length === 0 ? { release: 'clear' } : { release: 'narrow', causes: remaining };
  }
  const clearedByIt = booking.history.some(
    (h) => h.action === 'hold_cleared' && h.rosterEventId === restore.rosterEventId,
  );
  return clearedByIt ? { release: 'republish' } : { release: 'none' };
}

/** The `reason` of the history entry of a hold the end of its evening released. */
export const EVENING_ENDED = 'evening_ended';

/** When the end of its evening released a booking's hold (its `hold_cleared` history entry), if it did. */
export function eveningEndReleaseAt(booking: Booking): Date | undefined {
  return booking.history.find((h) => h.action === 'hold_cleared' && h.reason === EVENING_ENDED)?.at;
}

/** Whether a booking the person's removal cancelled is a candidate of this restore at all. */
export function isRestoreCandidate(booking: Booking, rosterEventId: string): boolean {
  return booking.status === 'cancelled' || booking.reinstatement?.rosterEventId === rosterEventId;
}

/**
 * What a restore does with one of its candidates before anything is read: publish again what this
 * very restore already did before a crash (same ids), skip one an earlier restore already decided —
 * or this very restore reinstated and a newer removal cancelled again (a replica that stalled over
 * this restore while another applied it and the person's next removal) — or `decide` it
 * ({@link decideReinstatement}).
 */
export function restoreStepOf(
  booking: Booking,
  rosterEventId: string,
):
  | { step: 'republish_reinstated' }
  | { step: 'republish_not_reinstated'; reason: NotReinstatedReason }
  | { step: 'already_decided' }
  | { step: 'decide' } {
  if (booking.status === 'booked') return { step: 'republish_reinstated' };
  const earlier = booking.reinstatement;
  if (earlier && earlier.rosterEventId === rosterEventId)
    return earlier.outcome === 'reinstated'
      ? { step: 'already_decided' }
      : { step: 'republish_not_reinstated', reason: earlier.outcome };
  if (earlier && earlier.at.getTime() > booking.cancellation!.at.getTime())
    return { step: 'already_decided' };
  return { step: 'decide' };
}

/**
 * What a restore does with a booking naming the restored person that ANOTHER person's removal
 * cancelled. The restore of the person whose removal cancelled it decides it first; when it found
 * someone else it names still removed (`other_person_removed`, e.g. this person), the booking is
 * decided again by the restore of each person it names — so it comes back once everyone it names is
 * present, whatever the order of their restores. Also: publish again what this very restore already
 * did before a crash (same ids); `skip` every other booking (never decided: its own person's restore
 * will; decided for another reason: final).
 */
export function reconsiderStepOf(
  booking: Booking,
  restore: Pick<RestoreInput, 'kind' | 'personId' | 'rosterEventId'>,
):
  | { step: 'republish_reinstated' }
  | { step: 'republish_not_reinstated'; reason: NotReinstatedReason }
  | { step: 'decide' }
  | { step: 'skip' } {
  const by = booking.cancellation?.roster;
  if (!by || personOf(booking, restore.kind) !== restore.personId) return { step: 'skip' };
  if (by.personKind === restore.kind && by.personId === restore.personId) return { step: 'skip' };
  const earlier = booking.reinstatement;
  if (earlier?.rosterEventId === restore.rosterEventId) {
    if (booking.status === 'booked') return { step: 'republish_reinstated' };
    if (earlier.outcome !== 'reinstated')
      return { step: 'republish_not_reinstated', reason: earlier.outcome };
  }
  if (
    booking.status === 'cancelled' &&
    earlier?.outcome === 'other_person_removed' &&
    earlier.at.getTime() >= booking.cancellation!.at.getTime()
  )
    return { step: 'decide' };
  return { step: 'skip' };
}

/** The other people a booking names (whose removal keeps it from being reinstated). */
export function peopleOf(booking: Booking): Array<{ kind: PersonKind; personId: string }> {
  return (['pupil', 'staff', 'contact'] as const).map((kind) => ({
    kind,
    personId: personOf(booking, kind),
  }));
}

/** The outcome of the claim of a place a reinstatement writes (`exists`: the place was taken). */
export function claimOutcome(
  claim: 'ok' | 'slot_taken' | 'teacher_busy' | 'exists',
): 'reinstated' | NotReinstatedReason {
  return claim === 'ok' ? 'reinstated' : claim === 'teacher_busy' ? 'teacher_busy' : 'slot_taken';
}
