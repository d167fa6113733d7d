import type { BookableEvent, Booking, EventStatus, Slot } from './booking-model';
import { BookingsErrors } from './bookings-errors';

/** Statuses in which new bookings are taken. */
export const BOOKABLE_STATUSES: readonly EventStatus[] = ['open', 'live'];

const ALLOWED_TRANSITIONS: Record<EventStatus, readonly EventStatus[]> = {
  draft: ['draft', 'open'],
  open: ['open', 'draft', 'live', 'finished'],
  live: ['live', 'finished'],
  finished: ['finished'],
};

/** Refuses an event status change that is not draft→open→live→finished (open↔draft allowed). */
export function assertStatusTransition(from: EventStatus, to: EventStatus): void {
  if (!ALLOWED_TRANSITIONS[from].includes(to)) throw BookingsErrors.BOOKINGS_STATUS_TRANSITION({ from, to });
}

export function overlaps(a: { startsAt: Date; endsAt: Date }, b: { startsAt: Date; endsAt: Date }): boolean {
  return a.startsAt.getTime() < b.endsAt.getTime() && b.startsAt.getTime() < a.endsAt.getTime();
}

export interface NewBookingInput {
  slotId: string;
  pupilId: string;
  contactId: string;
  /** Optional when the slot names its teacher. */
  staffId?: string;
}

export interface NewBookingContext {
  event: BookableEvent;
  slot: Slot;
  /** Active (`booked`) bookings of the slot. */
  activeInSlot: readonly Booking[];
  /** Active bookings of the teacher in other slots (any event) — the overlap check filters them. */
  teacherActive: readonly Booking[];
}

export interface NewBookingDecision {
  staffId: string;
  /** The free place of the slot to claim (unique per slot among active bookings). */
  seat: number;
}

/**
 * Decides whether a booking may be made and which place it takes. Throws the domain error that
 * explains a refusal: event not bookable, slot full, pupil already in the slot, teacher double-booked
 * (another slot of theirs overlaps in time), or a teacher other than the slot's.
 */
export function decideNewBooking(input: NewBookingInput, ctx: NewBookingContext): NewBookingDecision {
  const { event, slot } = ctx;
  if (!BOOKABLE_STATUSES.includes(event.status)) {
    throw BookingsErrors.BOOKINGS_EVENT_NOT_BOOKABLE({ eventId: event.id, status: event.status });
  }
  if (slot.staffId !== undefined && input.staffId !== undefined && input.staffId !== slot.staffId) {
    throw BookingsErrors.BOOKINGS_TEACHER_MISMATCH({ slotId: slot.id });
  }
  const staffId = input.staffId ?? slot.staffId;
  if (staffId === undefined) {
    throw BookingsErrors.BOOKINGS_INVALID_REQUEST({
      fields: [{ field: 'staff_id', problem: 'required: the slot does not name a teacher' }],
    });
  }
  const samePupil = ctx.activeInSlot.find((b) => b.pupilId === input.pupilId);
  if (samePupil) {
    throw BookingsErrors.BOOKINGS_PUPIL_ALREADY_BOOKED({
      slotId: slot.id,
      conflictingBookingId: samePupil.id,
    });
  }
  const taken = new Set(ctx.activeInSlot.map((b) => b.seat));
  let seat = -1;
  for (let s = 0; s < slot.capacity; s++) {
    if (!taken.has(s)) {
      seat = s;
      break;
    }
  }
  if (seat < 0) throw BookingsErrors.BOOKINGS_SLOT_FULL({ slotId: slot.id, capacity: slot.capacity });
  const clash = findTeacherClash(staffId, slot, ctx.teacherActive);
  if (clash) throw BookingsErrors.BOOKINGS_TEACHER_DOUBLE_BOOKED({ staffId, conflictingBookingId: clash.id });
  return { staffId, seat };
}

/** An active booking of the teacher in another slot overlapping `slot` in time (a group slot shares its teacher). */
export function findTeacherClash(
  staffId: string,
  slot: Pick<Slot, 'id' | 'startsAt' | 'endsAt'>,
  teacherActive: readonly Booking[],
): Booking | undefined {
  return teacherActive.find(
    (b) => b.status === 'booked' && b.staffId === staffId && b.slotId !== slot.id && overlaps(b, slot),
  );
}

/**
 * The unique keys that make double-booking impossible even for concurrent requests (the database
 * has no transactions and does not isolate concurrent updates; unique inserts decide races):
 * `seatKey` = one active booking per slot place, `teacherKey` = one active appointment per teacher
 * and start time. Cancelled bookings get keys that free both.
 */
export function claimKeys(
  booking: Pick<Booking, 'id' | 'slotId' | 'seat' | 'staffId' | 'startsAt' | 'status'>,
  slotCapacity: number,
): { seatKey: string; teacherKey: string } {
  if (booking.status !== 'booked') return { seatKey: `free#${booking.id}`, teacherKey: `free#${booking.id}` };
  const at = `${booking.staffId}@${booking.startsAt.toISOString()}`;
  return {
    seatKey: `${booking.slotId}#${booking.seat}`,
    // Group slots (capacity > 1) share their teacher between places, so only appointments claim the teacher's time.
    teacherKey: slotCapacity > 1 ? `${at}#${booking.slotId}#${booking.seat}` : at,
  };
}
