import { unary } from '@isams-sync/grpc';
import type { bookingsV1, ServiceCallers } from '@isams-sync/grpc';
import type { BookableEvent, Booking, Slot } from '../../domain/booking-model';
import type { EventImpact } from '../../domain/removal-impact';
import type { BookingsUseCases } from '../../use-cases/bookings.use-cases';
import {
  bookingIdRequest,
  createBookingRequest,
  createEventRequest,
  createSlotsRequest,
  eventIdRequest,
  listBookingsRequest,
  listEventsRequest,
  listSlotsRequest,
  nextPageToken,
  parseRequest,
  previewRemovalImpactRequest,
  runReinstatementReportRequest,
  setSchoolTimeZoneRequest,
  updateEventRequest,
  updateSlotRequest,
} from './bookings.requests';

const iso = (d: Date | undefined) => (d ? d.toISOString() : '');

export function toEventProto(e: BookableEvent): bookingsV1.Event {
  return {
    id: e.id,
    kind: e.kind,
    title: e.title,
    startsAt: iso(e.startsAt),
    endsAt: iso(e.endsAt),
    status: e.status,
    createdAt: iso(e.createdAt),
    updatedAt: iso(e.updatedAt),
  };
}

export function toSlotProto(s: Slot): bookingsV1.Slot {
  return {
    id: s.id,
    eventId: s.eventId,
    startsAt: iso(s.startsAt),
    endsAt: iso(s.endsAt),
    staffId: s.staffId ?? '',
    capacity: s.capacity,
    location: s.location ?? '',
  };
}

export function toBookingProto(b: Booking): bookingsV1.Booking {
  const c = b.cancellation;
  return {
    id: b.id,
    eventId: b.eventId,
    slotId: b.slotId,
    staffId: b.staffId,
    pupilId: b.pupilId,
    contactId: b.contactId,
    startsAt: iso(b.startsAt),
    endsAt: iso(b.endsAt),
    status: b.status,
    createdAt: iso(b.createdAt),
    pendingCancellation: b.status === 'booked' && (b.pendingCancellation?.causes.length ?? 0) > 0,
    ...(b.status === 'cancelled' && c
      ? {
          cancellation: {
            reason: c.reason,
            at: iso(c.at),
            rosterEventId: c.roster?.rosterEventId ?? '',
            personKind: c.roster?.personKind ?? '',
            personId: c.roster?.personId ?? '',
            graceUntil: iso(c.graceUntil),
            actor: c.actor ?? '',
          },
        }
      : {}),
    history: b.history.map((h) => ({
      at: iso(h.at),
      action: h.action,
      reason: h.reason ?? '',
      rosterEventId: h.rosterEventId ?? '',
      actor: h.actor ?? '',
    })),
    reinstatementOutcome: b.reinstatement?.outcome ?? '',
    heldBy:
      b.status === 'booked'
        ? (b.pendingCancellation?.causes ?? []).map((c) => ({
            personKind: c.personKind,
            personId: c.personId,
            rosterEventId: c.rosterEventId,
            syncRunId: c.syncRunId ?? '',
            at: iso(c.at),
          }))
        : [],
  };
}

function toImpactProto(g: EventImpact): bookingsV1.EventImpact {
  return {
    event: toEventProto(g.event),
    live: g.live,
    bookingsToCancel: g.cancel.map(toBookingProto),
    bookingsToHold: g.hold.map(toBookingProto),
    familiesAffected: g.familiesAffected,
  };
}

/** Who may call the BookingsService: the gateway, acting for one school per call (docs/security.md). */
export const BOOKINGS_CALLERS: ServiceCallers = { default: ['gateway'] };

type Handlers = bookingsV1.BookingsServiceHandlers;

/** gRPC BookingsService: validate (zod → INVALID_ARGUMENT with fields), call the use case, translate back. */
export function bookingsGrpcHandlers(uc: BookingsUseCases): Handlers {
  return { ...eventRpcs(uc), ...slotRpcs(uc), ...bookingRpcs(uc), ...rosterRpcs(uc) };
}

function eventRpcs(
  uc: BookingsUseCases,
): Pick<Handlers, 'CreateEvent' | 'UpdateEvent' | 'GetEvent' | 'ListEvents'> {
  return {
    CreateEvent: unary<bookingsV1.CreateEventRequest__Output, bookingsV1.Event>(async (req, ctx) =>
      toEventProto(await uc.createEvent(ctx.tenantId, parseRequest(createEventRequest, req))),
    ),
    UpdateEvent: unary<bookingsV1.UpdateEventRequest__Output, bookingsV1.Event>(async (req, ctx) => {
      const { eventId, ...patch } = parseRequest(updateEventRequest, req);
      const clean = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
      return toEventProto(await uc.updateEvent(ctx.tenantId, eventId, clean));
    }),
    GetEvent: unary<bookingsV1.GetEventRequest__Output, bookingsV1.Event>(async (req, ctx) =>
      toEventProto(await uc.getEvent(ctx.tenantId, parseRequest(eventIdRequest, req).eventId)),
    ),
    ListEvents: unary<bookingsV1.ListEventsRequest__Output, bookingsV1.ListEventsResponse>(
      async (req, ctx) => {
        const { status, page } = parseRequest(listEventsRequest, req);
        const { items, total } = await uc.listEvents(ctx.tenantId, status, page);
        return {
          events: items.map(toEventProto),
          page: { nextPageToken: nextPageToken(page.skip, items.length, total), totalSize: String(total) },
        };
      },
    ),
  };
}

function slotRpcs(uc: BookingsUseCases): Pick<Handlers, 'CreateSlots' | 'UpdateSlot' | 'ListSlots'> {
  return {
    CreateSlots: unary<bookingsV1.CreateSlotsRequest__Output, bookingsV1.CreateSlotsResponse>(
      async (req, ctx) => {
        const { eventId, slots } = parseRequest(createSlotsRequest, req);
        return { slots: (await uc.createSlots(ctx.tenantId, eventId, slots)).map(toSlotProto) };
      },
    ),
    UpdateSlot: unary<bookingsV1.UpdateSlotRequest__Output, bookingsV1.Slot>(async (req, ctx) => {
      const { slotId, capacity, location } = parseRequest(updateSlotRequest, req);
      return toSlotProto(
        await uc.updateSlot(ctx.tenantId, slotId, {
          ...(capacity !== undefined ? { capacity } : {}),
          ...(location !== undefined ? { location } : {}),
        }),
      );
    }),
    ListSlots: unary<bookingsV1.ListSlotsRequest__Output, bookingsV1.ListSlotsResponse>(async (req, ctx) => ({
      slots: (await uc.listSlots(ctx.tenantId, parseRequest(listSlotsRequest, req).eventId)).map(toSlotProto),
    })),
  };
}

function bookingRpcs(
  uc: BookingsUseCases,
): Pick<Handlers, 'CreateBooking' | 'CancelBooking' | 'GetBooking' | 'ListBookings'> {
  return {
    CreateBooking: unary<bookingsV1.CreateBookingRequest__Output, bookingsV1.Booking>(async (req, ctx) =>
      toBookingProto(
        await uc.createBooking(ctx.tenantId, parseRequest(createBookingRequest, req), ctx.signal),
      ),
    ),
    CancelBooking: unary<bookingsV1.CancelBookingRequest__Output, bookingsV1.Booking>(async (req, ctx) =>
      toBookingProto(
        await uc.cancelBooking(ctx.tenantId, parseRequest(bookingIdRequest, req).bookingId, ctx.actor),
      ),
    ),
    GetBooking: unary<bookingsV1.GetBookingRequest__Output, bookingsV1.Booking>(async (req, ctx) =>
      toBookingProto(await uc.getBooking(ctx.tenantId, parseRequest(bookingIdRequest, req).bookingId)),
    ),
    ListBookings: unary<bookingsV1.ListBookingsRequest__Output, bookingsV1.ListBookingsResponse>(
      async (req, ctx) => {
        const { page, ...filter } = parseRequest(listBookingsRequest, req);
        const { items, total } = await uc.listBookings(ctx.tenantId, filter, page);
        return {
          bookings: items.map(toBookingProto),
          page: { nextPageToken: nextPageToken(page.skip, items.length, total), totalSize: String(total) },
        };
      },
    ),
  };
}

/** What the roster's removals and restores mean for bookings: previews, reports, the evenings' holds, the school's time zone. */
function rosterRpcs(
  uc: BookingsUseCases,
): Pick<Handlers, 'PreviewRemovalImpact' | 'SetSchoolTimeZone' | 'RunReinstatementReport' | 'ListEvenings'> {
  return {
    PreviewRemovalImpact: unary<
      bookingsV1.PreviewRemovalImpactRequest__Output,
      bookingsV1.PreviewRemovalImpactResponse
    >(async (req, ctx) => {
      const { removals, heldBatchId, dryRunId } = parseRequest(previewRemovalImpactRequest, req);
      const impact = await uc.previewRemovalImpact(
        ctx.tenantId,
        removals.map((r) => ({ kind: r.kind, personId: r.id })),
        heldBatchId ? 'approved_held_batch' : 'absent_from_feed',
      );
      return {
        events: impact.events.map(toImpactProto),
        totalBookingsToCancel: impact.totalCancel,
        totalBookingsToHold: impact.totalHold,
        familiesAffected: impact.familiesAffected,
        heldBatchId: heldBatchId ?? '',
        dryRunId: dryRunId ?? '',
      };
    }),
    SetSchoolTimeZone: unary<bookingsV1.SetSchoolTimeZoneRequest__Output, bookingsV1.SchoolTimeZone>(
      async (req, ctx) => {
        const { timeZone } = parseRequest(setSchoolTimeZoneRequest, req);
        const saved = await uc.setSchoolTimeZone(ctx.tenantId, timeZone);
        return { timeZone: saved.timeZone, updatedAt: iso(saved.updatedAt) };
      },
    ),
    RunReinstatementReport: unary<
      bookingsV1.RunReinstatementReportRequest__Output,
      bookingsV1.RunReinstatementReportResponse
    >(async (req, ctx) => {
      const { syncRunId, restoring } = parseRequest(runReinstatementReportRequest, req);
      const lines = await uc.runReinstatementReport(
        ctx.tenantId,
        syncRunId,
        restoring.map((r) => ({ kind: r.kind, personId: r.id })),
      );
      return { lines: lines.map((l) => ({ booking: toBookingProto(l.booking), outcome: l.outcome })) };
    }),
    ListEvenings: unary<bookingsV1.ListEveningsRequest__Output, bookingsV1.ListEveningsResponse>(
      async (_req, ctx) => {
        const { timeZone, evenings } = await uc.listEvenings(ctx.tenantId);
        return {
          timeZone,
          evenings: evenings.map((e) => ({
            event: toEventProto(e.event),
            state: e.state,
            pending: e.pending.map(toBookingProto),
            familiesAffected: e.familiesAffected,
          })),
        };
      },
    ),
  };
}
