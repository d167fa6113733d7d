import type { BookingCancellationReason, RosterRevision } from '@isams-sync/events';
import type {
  BookableEvent,
  Booking,
  HistoryEntry,
  NotReinstatedReason,
  PersonKind,
  RosterCause,
} from './booking-model';
import { personKey, personOf } from './booking-model';
import { overlaps } from './booking-rules';
import { DEFAULT_SCHOOL_TIME_ZONE, eveningState } from './school-calendar';

/** A roster removal of one person, as the consumer (or a preview) sees it. */
export interface RemovalInput {
  kind: PersonKind;
  personId: string;
  /** `approved_held_batch` removals cancel even in live events; `absent_from_feed` ones are held there. */
  reason: 'absent_from_feed' | 'approved_held_batch';
  /** The roster event id (for a preview: a placeholder, never stored). */
  rosterEventId: string;
}

export interface RemovalDecision {
  /** Booked (or pending) now → cancel. */
  cancel: Booking[];
  /** Booked in a live event → keep, mark pendingCancellation (already pending by this removal included). */
  hold: Booking[];
  /** Already cancelled by this very roster event (a crash re-run): publish their event again. */
  republish: Booking[];
  /**
   * Already cancelled, and held by this very roster event before (its `cancellation_held` history
   * entry): a crash re-run when a later removal of the batch, or the evening's end, cancelled the hold
   * before its `booking.cancellation-held.v1` went out. Publish that event again (same id).
   */
  republishHeld: Booking[];
  /**
   * Named but left alone, with why: finished events keep their history; `undone_since` — this very
   * removal cancelled or held it before and a later change reinstated or released it (a replica
   * that stalled over this removal while another applied it and the person's restore).
   */
  untouched: Array<{ booking: Booking; why: 'event_finished' | 'already_cancelled' | 'undone_since' }>;
}

/**
 * True when removals must not cancel the event's bookings automatically: it is a live evening in the
 * school's time zone — marked `live`, or open today on the school's calendar — and its day has not
 * passed ({@link eveningState}).
 */
export function isLiveEvening(
  event: Pick<BookableEvent, 'status' | 'startsAt' | 'endsAt'>,
  now: Date,
  timeZone: string,
): boolean {
  return eveningState(event, now, timeZone) === 'live';
}

export function cancellationReasonFor(reason: RemovalInput['reason']): BookingCancellationReason {
  return reason === 'approved_held_batch' ? 'roster_removal_approved' : 'roster_removal';
}

/**
 * Decides what one person's removal does to the bookings naming them. The consumer and the
 * booking-impact preview both call this, so a preview equals the outcome by construction.
 *
 * - ended evenings — finished, or their last day has passed on the school's calendar
 *   ({@link eveningState}, as the end-of-evening sweep sees them): nothing (history is kept);
 * - live evenings (in the school's time zone `timeZone`): an `absent_from_feed` removal holds the
 *   booking (pendingCancellation), an `approved_held_batch` removal cancels it (also when it was pending);
 * - otherwise: cancel.
 */
export function decideRemoval(
  removal: RemovalInput,
  bookings: readonly Booking[],
  events: ReadonlyMap<string, BookableEvent>,
  now: Date,
  timeZone: string = DEFAULT_SCHOOL_TIME_ZONE,
): RemovalDecision {
  const decision: RemovalDecision = { cancel: [], hold: [], republish: [], republishHeld: [], untouched: [] };
  for (const booking of bookings) {
    if (personOf(booking, removal.kind) !== removal.personId) continue;
    if (booking.status === 'cancelled') {
      const heldByIt = booking.history.some(
        (h) => h.action === 'cancellation_held' && h.rosterEventId === removal.rosterEventId,
      );
      if (heldByIt) decision.republishHeld.push(booking);
      if (booking.cancellation?.roster?.rosterEventId === removal.rosterEventId)
        decision.republish.push(booking);
      else if (!heldByIt) decision.untouched.push({ booking, why: 'already_cancelled' });
      continue;
    }
    const event = events.get(booking.eventId);
    if (!event || eveningState(event, now, timeZone) === 'ended') {
      decision.untouched.push({ booking, why: 'event_finished' });
      continue;
    }
    if (undoneSince(booking, removal.rosterEventId)) {
      decision.untouched.push({ booking, why: 'undone_since' });
      continue;
    }
    if (removal.reason !== 'approved_held_batch' && isLiveEvening(event, now, timeZone))
      decision.hold.push(booking);
    else decision.cancel.push(booking);
  }
  return decision;
}

/**
 * Whether a booking still booked was cancelled or held by this very removal before, and reinstated or
 * released since: only a later change (the person's restore) does that.
 */
function undoneSince(booking: Booking, rosterEventId: string): boolean {
  if (booking.cancellation?.roster?.rosterEventId === rosterEventId) return true;
  const heldByIt = booking.history.some(
    (h) => h.action === 'cancellation_held' && h.rosterEventId === rosterEventId,
  );
  return heldByIt && !booking.pendingCancellation?.causes.some((c) => c.rosterEventId === rosterEventId);
}

/** A removal of a batch: the removal plus the roster change that causes it. */
export interface BatchRemoval extends RemovalInput {
  cause: RosterCause;
  /** The removal's grace deadline (a `restored` before it reinstates). */
  graceUntil?: Date;
  /** The roster change's revision (absent on changes from before revisions existed). */
  revision?: RosterRevision;
}

/** The cancellation a removal writes on a booking it cancels. */
export function removalCancellation(removal: BatchRemoval): NonNullable<Booking['cancellation']> {
  return {
    reason: cancellationReasonFor(removal.reason),
    at: removal.cause.at,
    roster: removal.cause,
    ...(removal.graceUntil ? { graceUntil: removal.graceUntil } : {}),
  };
}

/** The history entry of a removal's hold. */
export function heldEntry(removal: BatchRemoval): HistoryEntry {
  return {
    at: removal.cause.at,
    action: 'cancellation_held',
    reason: removal.reason,
    rosterEventId: removal.rosterEventId,
  };
}

/**
 * Decides a batch of removals, in order, as if each were applied before the next is decided: the
 * bookings one removal cancels or holds are seen cancelled or held by the next (a booking naming two
 * removed people is cancelled once, by the first). `bookings` must hold every booking naming any of
 * the removed people (one lookup for the batch); the result has one decision per removal, in order.
 * The removals must be of distinct people (a person removed twice is decided in the next batch).
 */
export function decideRemovals(
  removals: readonly BatchRemoval[],
  bookings: readonly Booking[],
  events: ReadonlyMap<string, BookableEvent>,
  now: Date,
  timeZone: string = DEFAULT_SCHOOL_TIME_ZONE,
): RemovalDecision[] {
  const current = new Map(bookings.map((b) => [b.id, b]));
  return removals.map((removal) => {
    const decision = decideRemoval(removal, [...current.values()], events, now, timeZone);
    for (const b of decision.cancel) {
      const { pendingCancellation, ...rest } = b;
      void pendingCancellation;
      current.set(b.id, { ...rest, status: 'cancelled', cancellation: removalCancellation(removal) });
    }
    for (const b of decision.hold) {
      const causes = b.pendingCancellation?.causes ?? [];
      if (!causes.some((c) => c.rosterEventId === removal.rosterEventId))
        current.set(b.id, {
          ...b,
          pendingCancellation: { causes: [...causes, removal.cause] },
          history: [...b.history, heldEntry(removal)],
        });
    }
    return decision;
  });
}

/** A restore (`restored` roster event) of one person. */
export interface RestoreInput {
  kind: PersonKind;
  personId: string;
  rosterEventId: string;
  at: Date;
  /** The roster change's revision (absent on changes from before revisions existed). */
  revision?: RosterRevision;
}

export interface ReinstatementContext {
  event: BookableEvent | undefined;
  /** Active bookings of the same slot. */
  activeInSlot: readonly Booking[];
  slotCapacity: number;
  /** Active bookings of the booking's teacher (overlap is checked here). */
  teacherActive: readonly Booking[];
  /** Keys (`kind:id`) of people currently removed from the roster. */
  removedPeople: ReadonlySet<string>;
  /** The clock and the school's time zone: an evening that has ended ({@link eveningState}) takes no reinstatement. */
  now: Date;
  timeZone: string;
}

/**
 * Whether a booking cancelled by a roster removal is reinstated when `restore`'s person is back, or
 * why not. Callers select the bookings: those the removal of this person cancelled, and those naming
 * this person that another person's removal cancelled and that were not reinstated only because this
 * person was removed too ({@link reconsiderStepOf} in roster-change-plan.ts). Every person the booking
 * names other than `restore`'s must be present; an ended evening (finished, or its day passed on the
 * school's calendar) is `event_finished`.
 */
export type ReinstatementDecision = { outcome: 'reinstate'; seat: number } | { outcome: NotReinstatedReason };

export function decideReinstatement(
  booking: Booking,
  restore: RestoreInput,
  ctx: ReinstatementContext,
): ReinstatementDecision {
  if (!ctx.event || eveningState(ctx.event, ctx.now, ctx.timeZone) === 'ended')
    return { outcome: 'event_finished' };
  const graceUntil = booking.cancellation?.graceUntil;
  if (!graceUntil || restore.at.getTime() > graceUntil.getTime()) return { outcome: 'grace_expired' };
  const others = (['pupil', 'staff', 'contact'] as const).filter(
    (k) => k !== restore.kind || personOf(booking, k) !== restore.personId,
  );
  if (others.some((k) => ctx.removedPeople.has(personKey(k, personOf(booking, k)))))
    return { outcome: 'other_person_removed' };
  const taken = new Set(ctx.activeInSlot.filter((b) => b.id !== booking.id).map((b) => b.seat));
  // Prefer the original place; a group slot may hand out another free one.
  const seat = taken.has(booking.seat)
    ? Array.from({ length: ctx.slotCapacity }, (_, i) => i).find((i) => !taken.has(i))
    : booking.seat < ctx.slotCapacity
      ? booking.seat
      : undefined;
  if (seat === undefined) return { outcome: 'slot_taken' };
  const clash = ctx.teacherActive.find(
    (b) =>
      b.id !== booking.id &&
      b.staffId === booking.staffId &&
      b.slotId !== booking.slotId &&
      overlaps(b, booking),
  );
  if (clash) return { outcome: 'teacher_busy' };
  return { outcome: 'reinstate', seat };
}

/** The pending causes left after `restore`'s person is restored (empty → the hold is cleared). */
export function remainingHoldCauses(booking: Booking, restore: Pick<RestoreInput, 'kind' | 'personId'>) {
  return (booking.pendingCancellation?.causes ?? []).filter(
    (c) => !(c.personKind === restore.kind && c.personId === restore.personId),
  );
}

/**
 * What happens to a booking still held as pending cancellation when its evening has ended (set to
 * finished, or its day passed on the school's calendar): `cancel` when a removal still holds it —
 * the hold only protected the evening while it ran, and the roster's removal stands (a `restored`
 * would have released it) — with the first remaining cause; `release` when no cause is left.
 * Called with the evening ended only; the caller checks that with {@link eveningState}.
 */
export function decideHeldAtEveningEnd(
  booking: Booking,
): { outcome: 'cancel'; cause: RosterCause } | { outcome: 'release' } {
  const cause = booking.status === 'booked' ? booking.pendingCancellation?.causes[0] : undefined;
  return cause ? { outcome: 'cancel', cause } : { outcome: 'release' };
}
