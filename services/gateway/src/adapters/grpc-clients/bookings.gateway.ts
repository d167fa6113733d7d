import { loadProtoPackage } from '@isams-sync/grpc';
import type { BookingsServiceProtoGrpcType, bookingsV1 } from '@isams-sync/grpc';
import type { BookableEvent, Booking } from '../../domain/models/bookings.models';
import type { BookingsGateway } from '../../use-cases/ports';
import { callList, protoStrings } from './proto-json';
import { orNulls, upstreamCaller, upstreamClient } from './upstream-call';
import type { UpstreamOptions } from './upstream-call';

function event(e: bookingsV1.Event__Output): BookableEvent {
  return {
    id: e.id,
    kind: e.kind,
    title: e.title,
    ...orNulls(e, 'startsAt', 'endsAt'),
    status: e.status,
  };
}

function booking(b: bookingsV1.Booking__Output): Booking {
  const c = b.cancellation;
  return {
    id: b.id,
    eventId: b.eventId,
    slotId: b.slotId,
    ...orNulls(b, 'staffId', 'pupilId', 'contactId', 'startsAt', 'endsAt'),
    status: b.status,
    pendingCancellation: b.pendingCancellation,
    cancellation:
      c === null || c.reason === ''
        ? null
        : { reason: c.reason, ...orNulls(c, 'at', 'personKind', 'personId', 'actor') },
  };
}

const UPSTREAM = 'bookings';

/** The gRPC implementation of {@link BookingsGateway}. */
export function createBookingsGateway(options: UpstreamOptions): BookingsGateway {
  const pkg = loadProtoPackage<BookingsServiceProtoGrpcType>(
    'isams_sync/bookings/v1/bookings_service.proto',
    {
      protosDir: options.protosDir,
    },
  );
  const client = upstreamClient(pkg.isams_sync.bookings.v1.BookingsService, UPSTREAM, options, [
    'ListEvents',
    'ListBookings',
    'PreviewRemovalImpact',
    'SetSchoolTimeZone',
    'ListEvenings',
    'RunReinstatementReport',
  ]);
  const call = upstreamCaller(UPSTREAM, client);

  return {
    listEvents: (ctx, input) =>
      callList(call, client.listEvents, ctx, input, protoStrings(input, 'status'), {
        key: 'events',
        map: event,
      }),
    listEventBookings: (ctx, input) =>
      callList(
        call,
        client.listBookings,
        ctx,
        input,
        { eventId: input.eventId, ...protoStrings(input, 'status') },
        { key: 'bookings', map: booking },
      ),
    async previewRemovalImpact(ctx, input) {
      const r = await call(
        client.previewRemovalImpact,
        { removals: input.removals, ...protoStrings(input, 'heldBatchId', 'dryRunId') },
        ctx,
      );
      return {
        events: r.events
          .filter((e) => e.event !== null)
          .map((e) => ({
            event: event(e.event!),
            live: e.live,
            bookingsToCancel: e.bookingsToCancel.map(booking),
            bookingsToHold: e.bookingsToHold.map(booking),
            familiesAffected: e.familiesAffected,
          })),
        totalBookingsToCancel: r.totalBookingsToCancel,
        totalBookingsToHold: r.totalBookingsToHold,
        familiesAffected: r.familiesAffected,
      };
    },
    async runReinstatementReport(ctx, input) {
      const r = await call(client.runReinstatementReport, input, ctx);
      return r.lines
        .filter((l) => l.booking !== null)
        .map((l) => ({ booking: booking(l.booking!), outcome: l.outcome }));
    },
    async setSchoolTimeZone(ctx, timeZone) {
      await call(client.setSchoolTimeZone, { timeZone }, ctx);
    },
    async listEvenings(ctx) {
      const r = await call(client.listEvenings, {}, ctx);
      return {
        timeZone: r.timeZone,
        evenings: r.evenings
          .filter((e) => e.event !== null)
          .map((e) => ({
            event: event(e.event!),
            state: e.state === 'live' || e.state === 'ended' ? e.state : 'upcoming',
            pending: e.pending.map((b) => ({
              ...booking(b),
              heldBy: b.heldBy.map((c) => ({
                personKind: c.personKind,
                personId: c.personId,
                rosterEventId: c.rosterEventId,
                ...orNulls(c, 'syncRunId', 'at'),
              })),
            })),
            familiesAffected: e.familiesAffected,
          })),
      };
    },
    close: () => client.close(),
  };
}
