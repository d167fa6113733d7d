import type {
  BookableEvent,
  Booking,
  BookingStatus,
  EventStatus,
  HistoryEntry,
  PersonKind,
  Slot,
} from '../domain/booking-model';
import type { PersonRosterState } from '../domain/roster-ordering';

/** Per-school settings bookings keeps (`_id` = tenant id). */
export interface SchoolSettings {
  /** IANA time zone: what "today" and "its day has passed" mean for the school's evenings. */
  timeZone: string;
  updatedAt: Date;
}

/** An evening with (or that had) bookings held as pending cancellation: the end-of-evening sweep's work list. */
export interface HeldEvening {
  tenantId: string;
  eventId: string;
  since: Date;
}

export interface BookingFilter {
  eventId?: string;
  pupilId?: string;
  staffId?: string;
  contactId?: string;
  status?: BookingStatus;
}

/** Outcome of writing a booking whose unique claims may collide. */
export type ClaimResult = 'ok' | 'slot_taken' | 'teacher_busy' | 'exists';

/**
 * Outcome of a reinstatement: a {@link ClaimResult}, or `changed` — nothing was written, the booking
 * is no longer cancelled as it was read (a newer removal cancelled it again, a newer restore decided it).
 */
export type ReinstateResult = ClaimResult | 'changed';

/** One booking of a batch cancellation, with the cancellation and history entry to record. */
export interface BookingToCancel {
  booking: Booking;
  cancellation: NonNullable<Booking['cancellation']>;
  entry: HistoryEntry;
}

/** A cancelled booking to put back into `seat` of its slot (of `slotCapacity` places). */
export interface BookingToReinstate {
  booking: Booking;
  seat: number;
  slotCapacity: number;
  reinstatement: NonNullable<Booking['reinstatement']>;
  entry: HistoryEntry;
}

/**
 * The bookings service's storage, one school (tenant) per call, as the use-cases need it: every
 * method names a business action or question. Writes are idempotent and conditional, so a re-run
 * after a crash changes nothing; double-booking races are decided by the store (the Mongo adapter's
 * unique `seatKey`/`teacherKey` indexes). Implemented by `adapters/mongo/bookings.store.ts`.
 */
export interface BookingsStore {
  /** false when an event with this id exists. */
  insertEvent(tenantId: string, event: BookableEvent): Promise<boolean>;
  getEvent(tenantId: string, id: string): Promise<BookableEvent | undefined>;
  replaceEvent(tenantId: string, event: BookableEvent): Promise<void>;
  listEvents(
    tenantId: string,
    opts: { status?: EventStatus; skip: number; limit: number },
  ): Promise<{ items: BookableEvent[]; total: number }>;
  /** Events not finished that are marked live or take place within a day and a half of `at` (live-evening candidates). */
  eventsAround(tenantId: string, at: Date): Promise<BookableEvent[]>;
  getEventsByIds(tenantId: string, ids: readonly string[]): Promise<Map<string, BookableEvent>>;
  /** Inserts slots; an existing id is kept as it is (idempotent re-send). */
  insertSlots(tenantId: string, slots: readonly Slot[]): Promise<void>;
  getSlot(tenantId: string, id: string): Promise<Slot | undefined>;
  getSlotsByIds(tenantId: string, ids: readonly string[]): Promise<Slot[]>;
  listSlots(tenantId: string, eventId: string): Promise<Slot[]>;
  updateSlot(tenantId: string, id: string, set: Partial<Pick<Slot, 'capacity' | 'location'>>): Promise<void>;
  /** Inserts a new booking; a collision on its slot place or teacher time is reported, not thrown. */
  insertBooking(tenantId: string, booking: Booking, slotCapacity: number): Promise<ClaimResult>;
  getBooking(tenantId: string, id: string): Promise<Booking | undefined>;
  listBookings(
    tenantId: string,
    filter: BookingFilter,
    page?: { skip: number; limit: number },
  ): Promise<{ items: Booking[]; total: number }>;
  activeInSlot(tenantId: string, slotId: string): Promise<Booking[]>;
  activeOfTeacher(tenantId: string, staffId: string): Promise<Booking[]>;
  /** Bookings naming the person: active ones plus those a roster change already touched (re-runs). */
  bookingsOfPerson(tenantId: string, kind: PersonKind, personId: string): Promise<Booking[]>;
  /**
   * Every booking (any status) naming any of these people: one query for a batch of removals, over
   * the (tenantId, pupilId / staffId / contactId) indexes (an `$or` of one `$in` per kind present).
   */
  bookingsNamingAny(
    tenantId: string,
    people: ReadonlyArray<{ kind: PersonKind; personId: string }>,
  ): Promise<Booking[]>;
  /**
   * Cancels the bookings still booked, all in one round trip (each a conditional update like
   * {@link cancel}; a re-run changes nothing). Returns the bookings these writes cancelled: when a
   * write found its booking no longer booked (an admin cancelled it meanwhile), the bookings are read
   * back and only those carrying the given cancellation count.
   */
  cancelBookings(tenantId: string, items: readonly BookingToCancel[]): Promise<Booking[]>;
  /** Every booking in events that have not finished (preview input). */
  bookingsOfPeople(
    tenantId: string,
    people: ReadonlyArray<{ kind: PersonKind; personId: string }>,
  ): Promise<Booking[]>;
  /** Bookings held as pending cancellation in an event. */
  pendingInEvent(tenantId: string, eventId: string): Promise<Booking[]>;
  /**
   * Cancels a booking if it is still booked and not reinstated since `booking` was read (conditional
   * update: a second run changes nothing, nor a replica that stalled past the person's restore).
   * Returns the cancelled booking, or undefined when it was not booked any more.
   */
  cancel(
    tenantId: string,
    booking: Booking,
    cancellation: NonNullable<Booking['cancellation']>,
    entry: HistoryEntry,
  ): Promise<Booking | undefined>;
  /**
   * Cancels a held booking only while it is still booked and held as `booking.pendingCancellation`
   * says (conditional update: a restore that released or narrowed the hold meanwhile wins). Returns
   * the cancelled booking, or undefined when it was not cancelled.
   */
  cancelHeld(
    tenantId: string,
    booking: Booking,
    cancellation: NonNullable<Booking['cancellation']>,
    entry: HistoryEntry,
  ): Promise<Booking | undefined>;
  /**
   * Holds a booking as pending cancellation by `causes`, only while it is booked and held as `booking`
   * (as read) says: the same `pendingCancellation` (or none) and no history entry since (a hold
   * written and released meanwhile by a replica that took over while this one stalled). false when
   * it was not written.
   */
  setPending(
    tenantId: string,
    booking: Booking,
    causes: NonNullable<Booking['pendingCancellation']>['causes'],
    entry?: HistoryEntry,
  ): Promise<boolean>;
  /** Releases a booking's hold, only while it is held as `booking` (as read) says, like {@link setPending}. */
  clearPending(tenantId: string, booking: Booking, entry: HistoryEntry): Promise<boolean>;
  /**
   * Reinstates a cancelled booking into `seat`, only while it is cancelled as read (the same
   * cancellation and `reinstatement`): `changed` when it is not (nothing written); the unique claims
   * refuse it when the place or the teacher's time was taken meanwhile.
   */
  reinstate(tenantId: string, request: BookingToReinstate): Promise<ReinstateResult>;
  /** Records why a booking was not reinstated, only while it is cancelled as read (like {@link reinstate}); false when not. */
  recordNotReinstated(
    tenantId: string,
    booking: Booking,
    reinstatement: NonNullable<Booking['reinstatement']>,
    entry: HistoryEntry,
  ): Promise<boolean>;
  /** Bookings cancelled by a roster removal of this person. */
  cancelledByRemovalOf(tenantId: string, kind: PersonKind, personId: string): Promise<Booking[]>;
  /** Bookings a roster removal of this sync run cancelled (whatever happened to them since). */
  cancelledByRun(tenantId: string, syncRunId: string): Promise<Booking[]>;
  /** Bookings of an event cancelled when the evening ended (re-published until the evening is resolved). */
  cancelledAtEveningEnd(tenantId: string, eventId: string): Promise<Booking[]>;
  /** Bookings of an event whose hold the evening's end released (re-published until the evening is resolved). */
  releasedAtEveningEnd(tenantId: string, eventId: string): Promise<Booking[]>;
  getSchoolSettings(tenantId: string): Promise<SchoolSettings | undefined>;
  putSchoolSettings(tenantId: string, settings: SchoolSettings): Promise<void>;
  /** Records that an evening has held cancellations (before the first hold is written; idempotent). */
  noteHeldEvening(tenantId: string, eventId: string, since: Date): Promise<void>;
  /** Every school's evenings with held cancellations (a short list: evenings live today, or just ended). */
  heldEvenings(tenantId?: string): Promise<HeldEvening[]>;
  forgetHeldEvening(tenantId: string, eventId: string): Promise<void>;
  getPersonState(
    tenantId: string,
    kind: PersonKind,
    personId: string,
  ): Promise<PersonRosterState | undefined>;
  removedPeople(
    tenantId: string,
    people: ReadonlyArray<{ kind: PersonKind; personId: string }>,
  ): Promise<Set<string>>;
  /** Records what bookings applied for a person, unless a newer change is recorded (`isStaleChange`'s order). */
  putPersonState(tenantId: string, state: PersonRosterState): Promise<void>;
  /** The applied roster states of these people (one query), by `kind:personId`. */
  personStatesOf(
    tenantId: string,
    people: ReadonlyArray<{ kind: PersonKind; personId: string }>,
  ): Promise<Map<string, PersonRosterState>>;
  /** Records what bookings applied for several people (one round trip), each unless a newer change is recorded. */
  putPersonStates(tenantId: string, states: readonly PersonRosterState[]): Promise<void>;
  /** Which of these roster event ids are recorded as applied (one query). */
  processedAmong(tenantId: string, eventIds: readonly string[]): Promise<Set<string>>;
  /** Records several roster events as applied (after their effects; one round trip; already recorded ones are kept). */
  markAllProcessed(
    tenantId: string,
    records: ReadonlyArray<{ eventId: string; type: string; outcome: Record<string, number | string> }>,
  ): Promise<void>;
  isProcessed(tenantId: string, eventId: string): Promise<boolean>;
  /** Records a roster event as applied (after its effects; false = it was already recorded). */
  markProcessed(
    tenantId: string,
    eventId: string,
    type: string,
    outcome: Record<string, number | string>,
  ): Promise<boolean>;
  /** Drops the records of roster events applied before `before`, of every school (retention); how many. */
  dropProcessedBefore(before: Date): Promise<number>;
}
