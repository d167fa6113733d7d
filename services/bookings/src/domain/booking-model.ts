import type { BookingCancellationReason, BookingPersonKind } from '@isams-sync/events';

export const EVENT_KINDS = ['parents_evening', 'club'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** draft → open (bookable) → live (happening now) → finished (history only). */
export const EVENT_STATUSES = ['draft', 'open', 'live', 'finished'] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

export type PersonKind = BookingPersonKind;

/** A bookable event of one school: a parents' evening or a club/event. */
export interface BookableEvent {
  id: string;
  kind: EventKind;
  title: string;
  startsAt: Date;
  endsAt: Date;
  status: EventStatus;
  createdAt: Date;
  updatedAt: Date;
}

/** A bookable time window of an event; `capacity` places (1 for a parents' evening appointment). */
export interface Slot {
  id: string;
  eventId: string;
  startsAt: Date;
  endsAt: Date;
  /** The teacher holding the slot; when set, bookings of the slot are with this teacher. */
  staffId?: string;
  capacity: number;
  location?: string;
}

export type BookingStatus = 'booked' | 'cancelled';

/** The roster change that caused a cancellation, hold or reinstatement. */
export interface RosterCause {
  rosterEventId: string;
  personKind: PersonKind;
  personId: string;
  at: Date;
  syncRunId?: string;
  heldBatchId?: string;
}

export interface Cancellation {
  reason: BookingCancellationReason;
  at: Date;
  /** Present when a roster removal caused it. */
  roster?: RosterCause;
  /** Until when a `restored` of the same person reinstates it (the removal's `graceUntil`). */
  graceUntil?: Date;
  /** The API actor, for user cancellations. */
  actor?: string;
}

export interface HistoryEntry {
  at: Date;
  action: 'booked' | 'cancelled' | 'cancellation_held' | 'hold_cleared' | 'reinstated' | 'not_reinstated';
  reason?: string;
  rosterEventId?: string;
  actor?: string;
}

/** A booking: one slot place with a teacher, for a pupil, booked by a contact (parent). */
export interface Booking {
  id: string;
  eventId: string;
  slotId: string;
  staffId: string;
  pupilId: string;
  contactId: string;
  /** Copied from the slot (overlap checks without a join). */
  startsAt: Date;
  endsAt: Date;
  /** Which of the slot's `capacity` places it occupies. */
  seat: number;
  status: BookingStatus;
  createdAt: Date;
  /** Set while a removal is held because the event is live (see docs/events.md). */
  pendingCancellation?: { causes: RosterCause[] };
  cancellation?: Cancellation;
  /** The latest reinstatement attempt of a roster cancellation. */
  reinstatement?: { at: Date; rosterEventId: string; outcome: 'reinstated' | NotReinstatedReason };
  history: HistoryEntry[];
}

export type NotReinstatedReason =
  'slot_taken' | 'teacher_busy' | 'event_finished' | 'grace_expired' | 'other_person_removed';

/** The id of the person of `kind` a booking names. */
export function personOf(
  booking: Pick<Booking, 'staffId' | 'pupilId' | 'contactId'>,
  kind: PersonKind,
): string {
  if (kind === 'staff') return booking.staffId;
  if (kind === 'pupil') return booking.pupilId;
  return booking.contactId;
}

/** `kind:id`, the key people are tracked by. */
export function personKey(kind: PersonKind, id: string): string {
  return `${kind}:${id}`;
}
