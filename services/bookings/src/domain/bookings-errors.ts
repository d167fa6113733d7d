import { defineErrors } from '@isams-sync/errors';

/** The bookings service's error catalogue (stable codes `BOOKINGS_*`). */
export const BookingsErrors = defineErrors({
  BOOKINGS_INVALID_REQUEST: {
    kind: 'invalid_argument',
    message: (d: { fields: Array<{ field: string; problem: string }> }) =>
      `Invalid request: ${d.fields.map((f) => `${f.field}: ${f.problem}`).join('; ')}`,
  },
  BOOKINGS_EVENT_NOT_FOUND: {
    kind: 'not_found',
    message: (d: { eventId: string }) => `Event ${d.eventId} not found`,
  },
  BOOKINGS_SLOT_NOT_FOUND: {
    kind: 'not_found',
    message: (d: { slotId: string }) => `Slot ${d.slotId} not found`,
  },
  BOOKINGS_BOOKING_NOT_FOUND: {
    kind: 'not_found',
    message: (d: { bookingId: string }) => `Booking ${d.bookingId} not found`,
  },
  BOOKINGS_EVENT_EXISTS: {
    kind: 'already_exists',
    message: (d: { eventId: string }) => `Event ${d.eventId} already exists`,
  },
  BOOKINGS_SLOT_EXISTS: {
    kind: 'already_exists',
    message: (d: { slotId: string }) => `Slot ${d.slotId} already exists`,
  },
  BOOKINGS_EVENT_NOT_BOOKABLE: {
    kind: 'failed_precondition',
    message: (d: { eventId: string; status: string }) =>
      `Event ${d.eventId} is ${d.status}: bookings are only taken while it is open or live`,
  },
  BOOKINGS_EVENT_FINISHED: {
    kind: 'failed_precondition',
    message: (d: { eventId: string }) => `Event ${d.eventId} has finished and can no longer change`,
  },
  BOOKINGS_STATUS_TRANSITION: {
    kind: 'failed_precondition',
    message: (d: { from: string; to: string }) => `An event cannot go from ${d.from} to ${d.to}`,
  },
  BOOKINGS_SLOT_FULL: {
    kind: 'failed_precondition',
    message: (d: { slotId: string; capacity: number }) =>
      `Slot ${d.slotId} is already fully booked (capacity ${d.capacity})`,
  },
  BOOKINGS_TEACHER_DOUBLE_BOOKED: {
    kind: 'failed_precondition',
    message: (d: { staffId: string; conflictingBookingId: string }) =>
      `The teacher already has booking ${d.conflictingBookingId} at an overlapping time`,
  },
  BOOKINGS_PUPIL_ALREADY_BOOKED: {
    kind: 'failed_precondition',
    message: (d: { slotId: string; conflictingBookingId: string }) =>
      `The pupil is already booked in slot ${d.slotId} (booking ${d.conflictingBookingId})`,
  },
  BOOKINGS_TEACHER_MISMATCH: {
    kind: 'invalid_argument',
    message: (d: { slotId: string }) => `Slot ${d.slotId} belongs to another teacher`,
  },
  BOOKINGS_PERSON_UNKNOWN: {
    kind: 'failed_precondition',
    message: (d: { kind: string; personId: string }) => `The roster does not know ${d.kind} ${d.personId}`,
  },
  BOOKINGS_ALREADY_CANCELLED: {
    kind: 'failed_precondition',
    message: (d: { bookingId: string }) => `Booking ${d.bookingId} is already cancelled`,
  },
  BOOKINGS_TIME_ZONE_UNKNOWN: {
    kind: 'invalid_argument',
    message: (d: { timeZone: string }) =>
      `"${d.timeZone}" is not a time zone: give an IANA name such as Europe/London`,
  },
  /**
   * A roster change event of a type bookings acts on that is not what its type says (its `data.change`
   * disagrees with the type) or lacks what bookings acts on (a removal without `removal`). Permanent:
   * the consumer dead-letters it at once and applies the events after it. No personal data.
   */
  BOOKINGS_ROSTER_CHANGE_INVALID: {
    kind: 'invalid_argument',
    message: (d: { eventId: string; type: string; problems: string[] }) =>
      `Roster change event ${d.eventId} (${d.type}) is not applied: ${d.problems.join('; ')}`,
  },
  BOOKINGS_ROSTER_UNAVAILABLE: {
    kind: 'unavailable',
    message: 'The roster service could not be reached to check the people named; try again',
  },
  /**
   * A roster change's conditional write missed: the booking changed between the change's read and its
   * write. The roster-change handler decides the change again on what is there (see
   * `roster-change.use-case.ts`); past its attempts, the consumer retries the event.
   */
  BOOKINGS_WRITE_CONFLICT: {
    kind: 'aborted',
    message: (d: { bookingId: string }) =>
      `Booking ${d.bookingId} changed while a roster change was being applied to it; the change is decided again`,
  },
  /**
   * A roster change's conditional write missed on every attempt (WRITE_CONFLICT_ATTEMPTS, each on a
   * fresh read): not a race but a write that cannot match. Permanent, so the consumer dead-letters the
   * event (replayable, docs/runbooks) instead of retrying it for ever and holding up its partition.
   */
  BOOKINGS_WRITE_CONFLICT_PERSISTS: {
    kind: 'failed_precondition',
    message: (d: { bookingId: string; attempts: number }) =>
      `Booking ${d.bookingId} did not match the roster change's write in ${d.attempts} attempts, each on a fresh read; the change is dead-lettered`,
  },
});
