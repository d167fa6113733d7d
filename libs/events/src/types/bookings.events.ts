import { z } from 'zod';
import { defineEventType } from '../define-event-type';

/** Kinds of people a booking names (roster entity types). */
export const BOOKING_PERSON_KINDS = ['pupil', 'staff', 'contact'] as const;
export type BookingPersonKind = (typeof BOOKING_PERSON_KINDS)[number];

/** Why a booking was cancelled. */
export const BOOKING_CANCELLATION_REASONS = [
  /** A person the booking names was removed from the roster (`absent_from_feed` removal). */
  'roster_removal',
  /** A person the booking names was removed by an admin-approved held batch. */
  'roster_removal_approved',
  /** The removal hit a live event and was held as pending; the event then finished. */
  'roster_removal_event_finished',
  /** An admin or parent cancelled it through the API. */
  'user_cancelled',
] as const;
export type BookingCancellationReason = (typeof BOOKING_CANCELLATION_REASONS)[number];

/** Why a cancelled booking was not reinstated when the person was restored. */
export const BOOKING_NOT_REINSTATED_REASONS = [
  'slot_taken',
  'teacher_busy',
  'event_finished',
  'grace_expired',
  'other_person_removed',
] as const;

const bookingRef = {
  bookingId: z.string().min(1),
  eventId: z.string().min(1),
  slotId: z.string().min(1),
  pupilId: z.string().min(1),
  staffId: z.string().min(1),
  contactId: z.string().min(1),
};

/** The roster change that caused a booking outcome. */
const rosterCause = z
  .object({
    /** CloudEvent id of the roster change event. */
    rosterEventId: z.string().min(1),
    personKind: z.enum(BOOKING_PERSON_KINDS),
    personId: z.string().min(1),
    syncRunId: z.string().min(1).max(64).optional(),
    heldBatchId: z.string().optional(),
  })
  .strict();

/**
 * A booking was cancelled. id = deterministic from (booking id, cause id): the roster event id, or the
 * API request for user cancellations, so a re-run publishes the same id.
 */
export const bookingCancelledV1 = defineEventType({
  type: 'com.schoolcloud.isams-sync.bookings.booking.cancelled.v1',
  source: '/isams-sync/bookings',
  description:
    'A booking was cancelled; `reason` says why and `roster` names the roster removal that caused it (absent for user cancellations). Notify the family and free the slot.',
  schema: z
    .object({
      ...bookingRef,
      reason: z.enum(BOOKING_CANCELLATION_REASONS),
      cancelledAt: z.iso.datetime({ offset: true }),
      roster: rosterCause.optional(),
    })
    .strict(),
});

/** A booking cancelled by a roster removal was reinstated because the person was restored within the grace period. */
export const bookingReinstatedV1 = defineEventType({
  type: 'com.schoolcloud.isams-sync.bookings.booking.reinstated.v1',
  source: '/isams-sync/bookings',
  description:
    'A booking cancelled by a roster removal was reinstated because the person was restored within the grace period and the slot was still free.',
  schema: z
    .object({
      ...bookingRef,
      reinstatedAt: z.iso.datetime({ offset: true }),
      /** The `restored` roster event. */
      roster: rosterCause,
      /** The roster event that had cancelled it. */
      cancelledByRosterEventId: z.string().min(1),
    })
    .strict(),
});

/** A restored person's booking could not be reinstated; `reason` says why (the cancellation stands). */
export const bookingNotReinstatedV1 = defineEventType({
  type: 'com.schoolcloud.isams-sync.bookings.booking.not-reinstated.v1',
  source: '/isams-sync/bookings',
  description:
    'A person was restored but a booking their removal cancelled could not be reinstated (slot taken, teacher busy, event finished, grace expired, another person on it still removed); the cancellation stands.',
  schema: z
    .object({
      ...bookingRef,
      reason: z.enum(BOOKING_NOT_REINSTATED_REASONS),
      roster: rosterCause,
    })
    .strict(),
});

/**
 * A removal would cancel a booking in a live event, so it was held as `pendingCancellation` instead:
 * it is cancelled when the removal arrives through an approved held batch, when an admin cancels it,
 * or when the event ends; it is released ({@link bookingCancellationReleasedV1}) when the person is
 * restored.
 */
export const bookingCancellationHeldV1 = defineEventType({
  type: 'com.schoolcloud.isams-sync.bookings.booking.cancellation-held.v1',
  source: '/isams-sync/bookings',
  // 1.0.1: the description names every way a hold ends (it left out the restore); the data is unchanged.
  schemaVersion: '1.0.1',
  description:
    'A roster removal hit a booking in a live event; the booking stays in place as pendingCancellation until it is cancelled (an admin approves the removal through a held batch or cancels the booking, or the event ends: booking.cancelled.v1) or released (the person is restored: booking.cancellation-released.v1).',
  schema: z
    .object({
      ...bookingRef,
      heldAt: z.iso.datetime({ offset: true }),
      roster: rosterCause,
    })
    .strict(),
});

/** Why a held cancellation was released (the booking stays booked, no longer pending). */
export const BOOKING_RELEASE_REASONS = [
  /** The removed person was restored (reappeared in the feed, or an admin undid the run). */
  'person_restored',
  /** The event ended with no removal left holding the booking. */
  'event_finished',
] as const;
export type BookingReleaseReason = (typeof BOOKING_RELEASE_REASONS)[number];

/**
 * A held cancellation ({@link bookingCancellationHeldV1}) was released: the booking stays booked and
 * is no longer pending cancellation. id = deterministic from (booking id, cause): the restore event
 * id, or `event_finished`.
 */
export const bookingCancellationReleasedV1 = defineEventType({
  type: 'com.schoolcloud.isams-sync.bookings.booking.cancellation-released.v1',
  source: '/isams-sync/bookings',
  description:
    'A held cancellation was released: the booking stays booked and is no longer pendingCancellation. `reason` says why: `person_restored` (the last removed person holding it was restored; `roster` names the restore), or `event_finished` (the event ended with no removal left holding it).',
  schema: z
    .object({
      ...bookingRef,
      reason: z.enum(BOOKING_RELEASE_REASONS),
      releasedAt: z.iso.datetime({ offset: true }),
      /** The `restored` roster event (reason `person_restored`). */
      roster: rosterCause.optional(),
    })
    .strict(),
});

/** Every bookings event type (for the registry). */
export const allBookingEventTypes = [
  bookingCancelledV1,
  bookingReinstatedV1,
  bookingNotReinstatedV1,
  bookingCancellationHeldV1,
  bookingCancellationReleasedV1,
];
