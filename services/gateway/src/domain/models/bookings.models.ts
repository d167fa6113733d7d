import { z } from 'zod';
import { pageInfoSchema } from './common.models';
import { runUndoSchema } from './roster.models';

export const eventSchema = z
  .object({
    id: z.string(),
    kind: z.string(),
    title: z.string(),
    startsAt: z.string().nullable(),
    endsAt: z.string().nullable(),
    status: z.string().describe('draft, open, live, finished'),
  })
  .meta({ id: 'BookableEvent' });
export type BookableEvent = z.infer<typeof eventSchema>;
export const eventPageSchema = z.object({ events: z.array(eventSchema), page: pageInfoSchema });
export type EventPage = z.infer<typeof eventPageSchema>;

export const bookingSchema = z
  .object({
    id: z.string(),
    eventId: z.string(),
    slotId: z.string(),
    staffId: z.string().nullable(),
    pupilId: z.string().nullable(),
    contactId: z.string().nullable(),
    startsAt: z.string().nullable(),
    endsAt: z.string().nullable(),
    status: z.string().describe('booked or cancelled'),
    pendingCancellation: z.boolean(),
    cancellation: z
      .object({
        reason: z.string(),
        at: z.string().nullable(),
        personKind: z.string().nullable(),
        personId: z.string().nullable(),
        actor: z.string().nullable(),
      })
      .nullable(),
  })
  .meta({ id: 'Booking' });
export type Booking = z.infer<typeof bookingSchema>;
export const bookingPageSchema = z.object({ bookings: z.array(bookingSchema), page: pageInfoSchema });
export type BookingPage = z.infer<typeof bookingPageSchema>;

export const removalImpactSchema = z
  .object({
    events: z.array(
      z.object({
        event: eventSchema,
        live: z.boolean(),
        bookingsToCancel: z.array(bookingSchema),
        bookingsToHold: z.array(bookingSchema),
        familiesAffected: z.number().int(),
      }),
    ),
    totalBookingsToCancel: z.number().int(),
    totalBookingsToHold: z.number().int(),
    familiesAffected: z.number().int(),
    peopleConsidered: z
      .number()
      .int()
      .describe('Removed people (staff, pupils, contacts) the preview covered'),
  })
  .meta({ id: 'RemovalImpact' });
export type RemovalImpact = z.infer<typeof removalImpactSchema>;

/** A person whose removal is previewed. */
export interface PersonRef {
  kind: 'pupil' | 'staff' | 'contact';
  id: string;
}

export const heldBookingSchema = bookingSchema
  .extend({
    heldBy: z
      .array(
        z.object({
          personKind: z.string().describe('pupil, staff or contact'),
          personId: z.string(),
          rosterEventId: z.string(),
          syncRunId: z.string().nullable().describe('The run whose removal is held'),
          at: z.string().nullable(),
        }),
      )
      .describe('The roster removals holding this booking (pending cancellation)'),
  })
  .meta({ id: 'HeldBooking' });
export type HeldBooking = z.infer<typeof heldBookingSchema>;

export const eveningsSchema = z
  .object({
    timeZone: z.string().describe("The school's time zone: what “today” means for its evenings"),
    evenings: z.array(
      z.object({
        event: eventSchema,
        state: z
          .enum(['live', 'ended', 'upcoming'])
          .describe('live: removals are held here now; ended: its held cancellations are resolved shortly'),
        pending: z
          .array(heldBookingSchema)
          .describe(
            'Bookings kept although a removal named them; cancelled when the evening ends unless the person comes back',
          ),
        familiesAffected: z.number().int(),
      }),
    ),
  })
  .meta({ id: 'Evenings' });
export type Evenings = z.infer<typeof eveningsSchema>;

export const reinstatementLineSchema = z.object({
  booking: bookingSchema,
  outcome: z
    .string()
    .describe(
      'reinstated, can_reinstate (before the undo), or why not: slot_taken, teacher_busy, event_finished, grace_expired, other_person_removed',
    ),
});
export type ReinstatementLine = z.infer<typeof reinstatementLineSchema>;

export const runUndoWithBookingsSchema = z
  .object({
    undo: runUndoSchema,
    bookings: z.object({
      lines: z.array(reinstatementLineSchema).describe('Each booking the run’s removals cancelled'),
      reinstated: z.number().int(),
      canReinstate: z
        .number()
        .int()
        .describe('Would be reinstated by undoing (or while the undo is worked through)'),
      notReinstated: z.array(z.object({ reason: z.string(), count: z.number().int() })),
    }),
  })
  .meta({ id: 'RunUndoWithBookings' });
