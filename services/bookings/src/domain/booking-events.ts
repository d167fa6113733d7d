import type { CloudEvent } from '@isams-sync/events';
import {
  bookingCancellationHeldV1,
  bookingCancellationReleasedV1,
  bookingCancelledV1,
  bookingNotReinstatedV1,
  bookingReinstatedV1,
} from '@isams-sync/events';
import type { Booking, NotReinstatedReason, RosterCause } from './booking-model';

/**
 * The `bookings.events.v1` events bookings publishes about a booking. Every id is deterministic
 * from (booking, cause), so a re-run after a crash publishes the same ids again.
 */

const ref = (b: Booking) => ({
  bookingId: b.id,
  eventId: b.eventId,
  slotId: b.slotId,
  pupilId: b.pupilId,
  staffId: b.staffId,
  contactId: b.contactId,
});

const rosterRef = (c: RosterCause) => ({
  rosterEventId: c.rosterEventId,
  personKind: c.personKind,
  personId: c.personId,
  ...(c.syncRunId ? { syncRunId: c.syncRunId } : {}),
  ...(c.heldBatchId ? { heldBatchId: c.heldBatchId } : {}),
});

/** The `booking.cancelled.v1` event of a cancellation; its id depends only on (booking, cause). */
export function cancelledEvent(tenantId: string, b: Booking): CloudEvent {
  const c = b.cancellation!;
  return bookingCancelledV1.create({
    tenantId,
    subject: b.id,
    idParts: [b.id, c.roster?.rosterEventId ?? `user:${c.at.toISOString()}`],
    time: c.at,
    ...(c.roster?.syncRunId ? { syncRunId: c.roster.syncRunId } : {}),
    data: {
      ...ref(b),
      reason: c.reason,
      cancelledAt: c.at.toISOString(),
      ...(c.roster ? { roster: rosterRef(c.roster) } : {}),
    },
  });
}

/** The `booking.cancellation-held.v1` event of a booking a removal holds in a live evening. */
export function cancellationHeldEvent(tenantId: string, b: Booking, cause: RosterCause): CloudEvent {
  return bookingCancellationHeldV1.create({
    tenantId,
    subject: b.id,
    idParts: [b.id, cause.rosterEventId],
    time: cause.at,
    syncRunId: cause.syncRunId,
    data: { ...ref(b), heldAt: cause.at.toISOString(), roster: rosterRef(cause) },
  });
}

/** The envelope of an event a restoration causes: its id depends only on (booking, roster event). */
const restorationEnvelope = (tenantId: string, b: Booking, cause: RosterCause) => ({
  tenantId,
  subject: b.id,
  idParts: [b.id, cause.rosterEventId],
  time: cause.at,
  ...(cause.syncRunId ? { syncRunId: cause.syncRunId } : {}),
});

/** What released a held cancellation: a restore (its roster event), or the end of the event. */
export type HoldReleaseCause =
  { reason: 'person_restored'; cause: RosterCause } | { reason: 'event_finished'; at: Date };

/**
 * The `booking.cancellation-released.v1` event of a held cancellation released; its id depends only
 * on (booking, restore event), or (booking, `event_finished`).
 */
export function cancellationReleasedEvent(
  tenantId: string,
  b: Booking,
  released: HoldReleaseCause,
): CloudEvent {
  if (released.reason === 'event_finished')
    return bookingCancellationReleasedV1.create({
      tenantId,
      subject: b.id,
      idParts: [b.id, 'event_finished'],
      time: released.at,
      data: { ...ref(b), reason: released.reason, releasedAt: released.at.toISOString() },
    });
  const { cause } = released;
  return bookingCancellationReleasedV1.create({
    ...restorationEnvelope(tenantId, b, cause),
    data: {
      ...ref(b),
      reason: released.reason,
      releasedAt: cause.at.toISOString(),
      roster: rosterRef(cause),
    },
  });
}

export function reinstatedEvent(
  tenantId: string,
  b: Booking,
  cause: RosterCause,
  cancelledBy: string,
): CloudEvent {
  return bookingReinstatedV1.create({
    ...restorationEnvelope(tenantId, b, cause),
    data: {
      ...ref(b),
      reinstatedAt: cause.at.toISOString(),
      roster: rosterRef(cause),
      cancelledByRosterEventId: cancelledBy,
    },
  });
}

export function notReinstatedEvent(
  tenantId: string,
  b: Booking,
  cause: RosterCause,
  reason: NotReinstatedReason,
): CloudEvent {
  return bookingNotReinstatedV1.create({
    ...restorationEnvelope(tenantId, b, cause),
    data: { ...ref(b), reason, roster: rosterRef(cause) },
  });
}
