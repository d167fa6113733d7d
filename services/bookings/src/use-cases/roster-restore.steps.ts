import type { CloudEvent, RosterChangeData } from '@isams-sync/events';
import type { BookingsStore } from './ports';
import { BookingsErrors } from '../domain/bookings-errors';
import type { BookingEventPublisher } from '../domain/booking-event-publisher.port';
import { cancellationReleasedEvent, notReinstatedEvent, reinstatedEvent } from '../domain/booking-events';
import type { BookableEvent, Booking, NotReinstatedReason, RosterCause } from '../domain/booking-model';
import { decideReinstatement } from '../domain/removal-decision';
import type { RestoreInput } from '../domain/removal-decision';
import {
  claimOutcome,
  holdRelease,
  isRestoreCandidate,
  peopleOf,
  presentState,
  reconsiderStepOf,
  restoreOf,
  restoreStepOf,
} from '../domain/roster-change-plan';
import type { RosterChangeOutcome } from '../domain/roster-change-plan';
import { DEFAULT_SCHOOL_TIME_ZONE } from '../domain/school-calendar';

/** A write over `b` as read missed: it changed since (see BOOKINGS_WRITE_CONFLICT). */
const conflict = (b: Booking) => BookingsErrors.BOOKINGS_WRITE_CONFLICT({ bookingId: b.id });

/** Whether the removal of `restore`'s person is the one that cancelled the booking. */
const isOwnRemoval = (b: Booking, restore: RestoreInput) =>
  b.cancellation?.roster?.personKind === restore.kind && b.cancellation.roster.personId === restore.personId;

/** What the restore steps carry a decision out with. */
export interface RestoreDeps {
  store: BookingsStore;
  publisher: BookingEventPublisher;
  now: () => Date;
}

/** What deciding a reinstatement needs besides the booking: the clock and the school's time zone. */
interface Calendar {
  now: Date;
  timeZone: string;
}

/**
 * Applies one `restored` change (neither processed nor stale): the person's held cancellations are
 * released (`booking.cancellation-released.v1` for each booking no removal holds any more), what
 * their removal cancelled is reinstated when possible (else why not is recorded), then the bookings
 * naming them that another person's removal cancelled and that were kept cancelled only because
 * this person was removed too are decided again ({@link reconsiderStepOf}); every outcome event is
 * published, then the person's state is written.
 */
export async function applyRestore(
  deps: RestoreDeps,
  event: CloudEvent<RosterChangeData>,
): Promise<RosterChangeOutcome> {
  const { store, publisher } = deps;
  const tenantId = event.tenantid;
  const { restore, cause } = restoreOf(event);
  const named = await store.bookingsOfPerson(tenantId, restore.kind, restore.personId);
  const released = await releaseHolds(store, tenantId, restore, named);

  const own = (await store.cancelledByRemovalOf(tenantId, restore.kind, restore.personId)).filter((b) =>
    isRestoreCandidate(b, restore.rosterEventId),
  );
  const others = named.filter((b) => reconsiderStepOf(b, restore).step !== 'skip');
  const events = await store.getEventsByIds(
    tenantId,
    [...own, ...others].map((b) => b.eventId),
  );
  const calendar: Calendar = {
    now: deps.now(),
    timeZone: (await store.getSchoolSettings(tenantId))?.timeZone ?? DEFAULT_SCHOOL_TIME_ZONE,
  };
  const toPublish: CloudEvent[] = released.map((b) =>
    cancellationReleasedEvent(tenantId, b, { reason: 'person_restored', cause }),
  );
  let reinstated = 0;
  let notReinstated = 0;
  const candidates = [
    ...own.map((b) => ({ b, step: restoreStepOf(b, restore.rosterEventId) })),
    ...others.map((b) => ({ b, step: reconsiderStepOf(b, restore) })),
  ];
  for (const { b, step } of candidates) {
    const of = { restore, cause, event: events.get(b.eventId), calendar };
    const done = await restoreCandidate(store, tenantId, b, step, of);
    if (!done) continue;
    toPublish.push(done.publish);
    if (done.counts === 'reinstated') reinstated++;
    if (done.counts === 'not_reinstated') notReinstated++;
  }
  await publisher.publish(toPublish);
  await store.putPersonState(tenantId, presentState(restore));
  return { status: 'applied', cancelled: 0, held: 0, reinstated, notReinstated };
}

/**
 * Held (pending) cancellations of the restored person (among the bookings naming them) are released,
 * each only while it is held as read (a hold changed since — by another removal, the end-of-evening
 * sweep, or a replica that took the partition while this one stalled — fails with
 * BOOKINGS_WRITE_CONFLICT: the change is decided again on what is there). Returns the
 * bookings whose hold this restore cleared — now, or before a crash (their release event is published
 * again) — and not those it only narrowed (another removal still holds them).
 */
async function releaseHolds(
  store: BookingsStore,
  tenantId: string,
  restore: RestoreInput,
  named: readonly Booking[],
): Promise<Booking[]> {
  const released: Booking[] = [];
  for (const b of named) {
    const release = holdRelease(b, restore);
    if (release.release === 'clear') {
      const entry = { at: restore.at, action: 'hold_cleared' as const, rosterEventId: restore.rosterEventId };
      if (!(await store.clearPending(tenantId, b, entry))) throw conflict(b);
      released.push(b);
    } else if (release.release === 'narrow') {
      if (!(await store.setPending(tenantId, b, release.causes))) throw conflict(b);
    } else if (release.release === 'republish') released.push(b);
  }
  return released;
}

interface RestoreOf {
  restore: RestoreInput;
  cause: RosterCause;
  /** The candidate's bookable event (undefined: gone). */
  event: BookableEvent | undefined;
  calendar: Calendar;
}

/**
 * One booking this restore considers (cancelled by the restored person's removal, or reconsidered):
 * the event to publish about it, and whether this run reinstated it or recorded why not (nothing
 * counted when it only re-publishes what a run before a crash did; undefined when an earlier restore
 * already decided it, or when a reconsidered booking is still kept by someone else's removal). A
 * booking no longer cancelled as it was read (nothing written) fails with BOOKINGS_WRITE_CONFLICT:
 * the change is decided again on what is there.
 */
async function restoreCandidate(
  store: BookingsStore,
  tenantId: string,
  b: Booking,
  step: ReturnType<typeof restoreStepOf> | ReturnType<typeof reconsiderStepOf>,
  { restore, cause, event, calendar }: RestoreOf,
): Promise<{ publish: CloudEvent; counts?: 'reinstated' | 'not_reinstated' } | undefined> {
  const cancelledBy = b.cancellation!.roster!.rosterEventId;
  if (step.step === 'republish_reinstated')
    return { publish: reinstatedEvent(tenantId, b, cause, cancelledBy) };
  if (step.step === 'republish_not_reinstated')
    return { publish: notReinstatedEvent(tenantId, b, cause, step.reason) };
  if (step.step === 'already_decided' || step.step === 'skip') return undefined;

  const result = await reinstateIfPossible(store, tenantId, b, restore, event, calendar);
  if (result.outcome === 'changed') throw conflict(b);
  if (result.outcome === 'reinstated')
    return {
      publish: reinstatedEvent(tenantId, { ...b, seat: result.seat }, cause, cancelledBy),
      counts: 'reinstated',
    };
  // Reconsidered and still kept by yet another person's removal: already announced, nothing new.
  if (result.outcome === b.reinstatement?.outcome && !isOwnRemoval(b, restore)) return undefined;
  const reason = result.outcome;
  const at = restore.at;
  const recorded = await store.recordNotReinstated(
    tenantId,
    b,
    { at, rosterEventId: restore.rosterEventId, outcome: reason },
    { at, action: 'not_reinstated', reason, rosterEventId: restore.rosterEventId },
  );
  if (!recorded) throw conflict(b);
  return { publish: notReinstatedEvent(tenantId, b, cause, reason), counts: 'not_reinstated' };
}

/**
 * Reads what {@link decideReinstatement} needs and, when it says so, claims the place back (the claim
 * can still lose a race: then the place or the teacher was taken meanwhile; `changed` when the booking
 * is no longer cancelled as read, nothing written).
 */
async function reinstateIfPossible(
  store: BookingsStore,
  tenantId: string,
  b: Booking,
  restore: RestoreInput,
  event: BookableEvent | undefined,
  calendar: Calendar,
): Promise<{ outcome: 'reinstated'; seat: number } | { outcome: NotReinstatedReason | 'changed' }> {
  const [slot] = await store.getSlotsByIds(tenantId, [b.slotId]);
  const slotCapacity = slot?.capacity ?? 1;
  const decision = decideReinstatement(b, restore, {
    ...calendar,
    event,
    activeInSlot: await store.activeInSlot(tenantId, b.slotId),
    slotCapacity,
    teacherActive: await store.activeOfTeacher(tenantId, b.staffId),
    removedPeople: await store.removedPeople(tenantId, peopleOf(b)),
  });
  if (decision.outcome !== 'reinstate') return decision;
  const at = restore.at;
  const claim = await store.reinstate(tenantId, {
    booking: b,
    seat: decision.seat,
    slotCapacity,
    reinstatement: { at, rosterEventId: restore.rosterEventId, outcome: 'reinstated' },
    entry: { at, action: 'reinstated', rosterEventId: restore.rosterEventId },
  });
  if (claim === 'changed') return { outcome: claim };
  const outcome = claimOutcome(claim);
  return outcome === 'reinstated' ? { outcome, seat: decision.seat } : { outcome };
}
