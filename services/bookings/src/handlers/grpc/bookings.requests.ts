import { ENTITY_ID_MAX_CHARS } from '@isams-sync/events';
import { z } from 'zod';
import { EVENT_KINDS, EVENT_STATUSES } from '../../domain/booking-model';
import { BookingsErrors } from '../../domain/bookings-errors';

// Proto3 sends "" / 0 for unset fields: those mean "not given".
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === '' || v === 0 || v === null ? undefined : v), schema.optional());

const id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, '1–64 of A-Za-z0-9_-, starting alphanumeric');
/**
 * A roster person id, as the roster publishes it (libs/events `entityId`: any non-empty string; from
 * iSAMS a whole number, possibly negative, or `c<contact id>-<1|2>`). Any character but a control
 * character or a lone surrogate, up to the `ENTITY_ID_MAX_CHARS` the roster's GetEntity looks up:
 * an id is only ever compared, stored as a value or as the tail of a key, never put in a regex or a URL.
 */
const personId = z
  .string()
  .min(1, 'required')
  .max(ENTITY_ID_MAX_CHARS, `at most ${ENTITY_ID_MAX_CHARS} characters`)
  // With the `u` flag a surrogate pair is one code point: only a lone surrogate is `Cs`.
  .regex(/^[^\p{Cc}\p{Cs}]*$/u, 'no control characters');
const time = z.iso.datetime({ offset: true, message: 'an RFC 3339 date-time' }).transform((s) => new Date(s));
const title = z.string().trim().min(1, 'required').max(200);
const page = z
  .object({
    pageSize: z.number().int().min(0).max(500, 'at most 500'),
    pageToken: z.string().regex(/^\d{0,9}$/, 'a token from a previous page'),
  })
  .partial()
  .nullish()
  .transform((p) => ({ skip: p?.pageToken ? Number(p.pageToken) : 0, limit: p?.pageSize || 50 }));

const startBeforeEnd = (v: { startsAt?: Date; endsAt?: Date }, ctx: z.RefinementCtx) => {
  if (v.startsAt && v.endsAt && v.endsAt.getTime() <= v.startsAt.getTime()) {
    ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'must be after starts_at' });
  }
};

export const createEventRequest = z
  .object({
    id: optional(id),
    kind: z.enum(EVENT_KINDS, { message: `one of ${EVENT_KINDS.join(', ')}` }),
    title,
    startsAt: time,
    endsAt: time,
    status: optional(z.enum(['draft', 'open'], { message: 'draft or open' })).transform((s) => s ?? 'draft'),
  })
  .superRefine(startBeforeEnd);

export const updateEventRequest = z
  .object({
    eventId: id,
    title: optional(title),
    startsAt: optional(time),
    endsAt: optional(time),
    status: optional(z.enum(EVENT_STATUSES, { message: `one of ${EVENT_STATUSES.join(', ')}` })),
  })
  .superRefine(startBeforeEnd);

export const eventIdRequest = z.object({ eventId: id });
export const listEventsRequest = z.object({ status: optional(z.enum(EVENT_STATUSES)), page });

const slotInput = z
  .object({
    id: optional(id),
    startsAt: time,
    endsAt: time,
    staffId: optional(personId),
    capacity: optional(z.number().int().min(1).max(1000)).transform((c) => c ?? 1),
    location: optional(z.string().trim().max(200)),
  })
  .superRefine(startBeforeEnd);

export const createSlotsRequest = z.object({
  eventId: id,
  slots: z.array(slotInput).min(1, 'at least one slot').max(500, 'at most 500 slots per call'),
});

export const updateSlotRequest = z.object({
  slotId: id,
  capacity: optional(z.number().int().min(1).max(1000)),
  location: optional(z.string().trim().max(200)),
});

export const listSlotsRequest = z.object({ eventId: id });

export const createBookingRequest = z.object({
  slotId: id,
  staffId: optional(personId),
  pupilId: personId,
  contactId: personId,
});

export const bookingIdRequest = z.object({ bookingId: id });

export const listBookingsRequest = z
  .object({
    eventId: optional(id),
    pupilId: optional(personId),
    staffId: optional(personId),
    contactId: optional(personId),
    status: optional(z.enum(['booked', 'cancelled'])),
    page,
  })
  .superRefine((v, ctx) => {
    const given = [v.eventId, v.pupilId, v.staffId, v.contactId].filter((x) => x !== undefined).length;
    if (given !== 1)
      ctx.addIssue({
        code: 'custom',
        path: ['eventId'],
        message: 'give exactly one of event_id, pupil_id, staff_id, contact_id',
      });
  });

/** A person named by the roster's removals and restorations. */
const personRef = z.object({
  kind: z.enum(['pupil', 'staff', 'contact'], { message: 'pupil, staff or contact' }),
  id: personId,
});

export const previewRemovalImpactRequest = z
  .object({
    removals: z
      .array(personRef)
      // Empty is valid (a held batch without person removals): the impact is empty.
      .max(20_000, 'at most 20000 removals'),
    heldBatchId: optional(z.string().max(128)),
    dryRunId: optional(z.string().max(128)),
  })
  .superRefine((v, ctx) => {
    if (v.heldBatchId && v.dryRunId)
      ctx.addIssue({
        code: 'custom',
        path: ['dryRunId'],
        message: 'give held_batch_id or dry_run_id, not both',
      });
  });

export const runReinstatementReportRequest = z.object({
  syncRunId: z.string().min(1, 'required').max(128),
  restoring: z.array(personRef).max(20_000, 'at most 20000 people'),
});

export const setSchoolTimeZoneRequest = z.object({
  timeZone: z.string().trim().min(1, 'required: an IANA name such as Europe/London').max(64),
});

const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Problems a refused request names; the rest are counted (20,000 bad removals would be a 1 MB error). */
const LISTED_PROBLEMS = 10;

/**
 * Parses a request, or throws `BOOKINGS_INVALID_REQUEST` (→ INVALID_ARGUMENT) naming the first
 * {@link LISTED_PROBLEMS} bad fields, then `{ field: '(request)', problem: 'N more problems not listed' }`.
 */
export function parseRequest<S extends z.ZodType>(schema: S, request: unknown): z.output<S> {
  const result = schema.safeParse(request);
  if (result.success) return result.data;
  const { issues } = result.error;
  const fields = issues.slice(0, LISTED_PROBLEMS).map((issue) => ({
    field:
      issue.path
        .map((p) => (typeof p === 'number' ? `[${p}]` : snake(String(p))))
        .join('.')
        .replace(/\.\[/g, '[') || '(request)',
    problem: issue.message,
  }));
  if (issues.length > LISTED_PROBLEMS)
    fields.push({
      field: '(request)',
      problem: `${issues.length - LISTED_PROBLEMS} more problems not listed`,
    });
  throw BookingsErrors.BOOKINGS_INVALID_REQUEST({ fields });
}

/** The page token of the next page, or "" at the end. */
export function nextPageToken(skip: number, count: number, total: number): string {
  return skip + count < total ? String(skip + count) : '';
}
