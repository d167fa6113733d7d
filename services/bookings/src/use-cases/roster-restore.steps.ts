import type { CloudEvent, RosterChangeData } from '@isams-sync/events';
import type { BookingsStore } from './ports';
import type { BookingEventPublisher } from '../domain/booking-event-publisher.port';
import { notReinstatedEvent, reinstatedEvent } from '../domain/booking-events';
import type { BookableEvent, Booking, NotReinstatedReason, RosterCause } from '../domain/booking-model';
import { decideReinstatement } from '../domain/removal-decision';
import type { RestoreInput } from '../domain/removal-decision';
import {
  claimOutcome,
  holdRelease,
  isRestoreCandidate,
  peopleOf,
  presentState,
  restoreOf,
  restoreStepOf,
} from '../domain/roster-change-plan';
import type { RosterChangeOutcome } from '../domain/roster-change-plan';

/** What the restore steps carry a decision out with. */
export interface RestoreDeps {
  store: BookingsStore;
  publisher: BookingEventPublisher;
}

/**
 * Applies one `restored` change (neither processed nor stale): the person's held cancellations are
 * released, what their removal cancelled is reinstated when possible (else why not is recorded),
 * every outcome event is published, then the person's state is written.
 */
export async function applyRestore(
  deps: RestoreDeps,
  event: CloudEvent<RosterChangeData>,
): Promise<RosterChangeOutcome> {
  const { store, publisher } = deps;
  const tenantId = event.tenantid;
  const { restore, cause } = restoreOf(event);
  await releaseHolds(store, tenantId, restore);

  const candidates = (await store.cancelledByRemovalOf(tenantId, restore.kind, restore.personId)).filter(
    (b) => isRestoreCandidate(b, restore.rosterEventId),
  );
  const events = await store.getEventsByIds(
    tenantId,
    candidates.map((b) => b.eventId),
  );
  const toPublish: CloudEvent[] = [];
  let reinstated = 0;
  let notReinstated = 0;
  for (const b of candidates) {
    const done = await restoreCandidate(store, tenantId, b, { restore, cause, event: events.get(b.eventId) });
    if (!done) continue;
    toPublish.push(done.publish);
    if (done.counts === 'reinstated') reinstated++;
    if (done.counts === 'not_reinstated') notReinstated++;
  }
  await publisher.publish(toPublish);
  await store.putPersonState(tenantId, presentState(restore));
  return { status: 'applied', cancelled: 0, held: 0, reinstated, notReinstated };
}

/** Held (pending) cancellations of the restored person are released. */
async function releaseHolds(store: BookingsStore, tenantId: string, restore: RestoreInput): Promise<void> {
  for (const b of await store.bookingsOfPerson(tenantId, restore.kind, restore.personId)) {
    const release = holdRelease(b, restore);
    if (release.release === 'clear')
      await store.clearPending(tenantId, b.id, {
        at: restore.at,
        action: 'hold_cleared',
        rosterEventId: restore.rosterEventId,
      });
    else if (release.release === 'narrow') await store.setPending(tenantId, b.id, release.causes);
  }
}

interface RestoreOf {
  restore: RestoreInput;
  cause: RosterCause;
  /** The candidate's bookable event (undefined: gone). */
  event: BookableEvent | undefined;
}

/**
 * One booking cancelled by the restored person's removal: the event to publish about it, and whether
 * this run reinstated it or recorded why not (nothing counted when it only re-publishes what a run
 * before a crash did; undefined when an earlier restore already decided it).
 */
async function restoreCandidate(
  store: BookingsStore,
  tenantId: string,
  b: Booking,
  { restore, cause, event }: RestoreOf,
): Promise<{ publish: CloudEvent; counts?: 'reinstated' | 'not_reinstated' } | undefined> {
  const cancelledBy = b.cancellation!.roster!.rosterEventId;
  const step = restoreStepOf(b, restore.rosterEventId);
  if (step.step === 'republish_reinstated')
    return { publish: reinstatedEvent(tenantId, b, cause, cancelledBy) };
  if (step.step === 'republish_not_reinstated')
    return { publish: notReinstatedEvent(tenantId, b, cause, step.reason) };
  if (step.step === 'already_decided') return undefined;

  const result = await reinstateIfPossible(store, tenantId, b, restore, event);
  if (result.outcome === 'reinstated')
    return {
      publish: reinstatedEvent(tenantId, { ...b, seat: result.seat }, cause, cancelledBy),
      counts: 'reinstated',
    };
  const reason = result.outcome;
  const at = restore.at;
  await store.recordNotReinstated(
    tenantId,
    b.id,
    { at, rosterEventId: restore.rosterEventId, outcome: reason },
    { at, action: 'not_reinstated', reason, rosterEventId: restore.rosterEventId },
  );
  return { publish: notReinstatedEvent(tenantId, b, cause, reason), counts: 'not_reinstated' };
}

/**
 * Reads what {@link decideReinstatement} needs and, when it says so, claims the place back (the claim
 * can still lose a race: then the place or the teacher was taken meanwhile).
 */
async function reinstateIfPossible(
  store: BookingsStore,
  tenantId: string,
  b: Booking,
  restore: RestoreInput,
  event: BookableEvent | undefined,
): Promise<{ outcome: 'reinstated'; seat: number } | { outcome: NotReinstatedReason }> {
  const [slot] = await store.getSlotsByIds(tenantId, [b.slotId]);
  const slotCapacity = slot?.capacity ?? 1;
  const decision = decideReinstatement(b, restore, {
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
  const outcome = claimOutcome(claim);
  return outcome === 'reinstated' ? { outcome, seat: decision.seat } : { outcome };
}
