/**
 * The bookings product's side of BookingsService over gRPC (as `npm run demo`, the benchmarks and
 * the end-to-end tests use it): create an event with slots, book pupils, list bookings with their
 * cancellation. Also the one way tools reach a service's gRPC API as the gateway does.
 */
import type { Client } from '@grpc/grpc-js';
import { callMetadata, callUnary, createGrpcClient, loadProtoPackage } from '@isams-sync/grpc';
import type { ClientIdentity, GrpcClientConstructor, UnaryMethod } from '@isams-sync/grpc';

export interface BookingView {
  id: string;
  eventId: string;
  slotId: string;
  pupilId: string;
  contactId: string;
  staffId: string;
  status: string;
  pendingCancellation: boolean;
  cancellation?: {
    reason: string;
    at: string;
    personKind: string;
    personId: string;
    rosterEventId: string;
  } | null;
}

export interface BookingsGrpc extends Client {
  createEvent: UnaryMethod<object, { id: string; title: string }>;
  updateEvent: UnaryMethod<object, { id: string; status: string }>;
  createSlots: UnaryMethod<object, { slots: Array<{ id: string }> }>;
  createBooking: UnaryMethod<object, { id: string }>;
  listBookings: UnaryMethod<object, { bookings: BookingView[]; page?: { nextPageToken: string } | null }>;
}

/** Where the services' gRPC APIs listen, and the identity the gateway calls them with. */
export type ServiceAddresses<S extends string> = Record<`${S}Address`, string> & {
  clientIdentity(audience: string): ClientIdentity;
};

/** Proto file and service name of the services tools call over gRPC. */
const SERVICES = {
  bookings: { proto: 'isams_sync/bookings/v1/bookings_service.proto', service: 'BookingsService' },
  roster: { proto: 'isams_sync/roster/v1/roster_service.proto', service: 'RosterService' },
} as const;

/** A client of `service`'s gRPC API (methods as `C` names them), calling as the gateway does. */
export function serviceGrpcClient<C extends Client, S extends keyof typeof SERVICES>(
  system: ServiceAddresses<S>,
  service: S,
  deadlineMs: number,
): C {
  const { proto, service: name } = SERVICES[service];
  const pkg = loadProtoPackage<{
    isams_sync: Record<S, { v1: Record<string, GrpcClientConstructor<C>> }>;
  }>(proto);
  return createGrpcClient(pkg.isams_sync[service].v1[name]!, system[`${service}Address`], {
    identity: system.clientIdentity(service),
    deadlineMs,
  });
}

/** One BookingsService call of one school (the method picked from the client). */
export type BookingsCall = <Res>(
  method: (c: BookingsGrpc) => UnaryMethod<object, Res>,
  req: object,
) => Promise<Res>;

/** An open parents' evening with one appointment per booking with one teacher. */
export interface EveningPlan {
  title: string;
  /** Days from now; the evening starts at `startHourUtc` that day and lasts `hours`. */
  dayOffset: number;
  startHourUtc: number;
  hours: number;
  /** Length of one appointment (the slots follow each other). */
  slotMs: number;
  staffId: string;
  bookings: ReadonlyArray<{ pupilId: string; contactId: string | undefined }>;
}

/** Creates the evening of `plan`, its slots and its bookings; the booking ids follow `plan.bookings`. */
export async function bookEvening(
  call: BookingsCall,
  plan: EveningPlan,
): Promise<{ eventId: string; bookingIds: string[] }> {
  const day = new Date(Date.now() + plan.dayOffset * 86_400_000);
  day.setUTCHours(plan.startHourUtc, 0, 0, 0);
  const event = await call((c) => c.createEvent, {
    kind: 'parents_evening',
    title: plan.title,
    startsAt: day.toISOString(),
    endsAt: new Date(day.getTime() + plan.hours * 3_600_000).toISOString(),
    status: 'open',
  });
  const { slots } = await call((c) => c.createSlots, {
    eventId: event.id,
    slots: plan.bookings.map((_b, i) => ({
      startsAt: new Date(day.getTime() + i * plan.slotMs).toISOString(),
      endsAt: new Date(day.getTime() + (i + 1) * plan.slotMs).toISOString(),
      staffId: plan.staffId,
      capacity: 1,
    })),
  });
  const bookingIds: string[] = [];
  for (const [i, b] of plan.bookings.entries()) {
    const booked = await call((c) => c.createBooking, {
      slotId: slots[i]!.id,
      pupilId: b.pupilId,
      contactId: b.contactId,
    });
    bookingIds.push(booked.id);
  }
  return { eventId: event.id, bookingIds };
}

export interface SchoolBookings {
  /** Creates an open parents' evening a week ahead with one 10-minute slot per booking, and books each. */
  bookEvening(
    bookings: ReadonlyArray<{ pupilId: string; contactId: string }>,
    staffId: string,
  ): Promise<{ eventId: string }>;
  listBookings(eventId: string): Promise<BookingView[]>;
  close(): void;
}

/** Bookings of one school through BookingsService, calling as the gateway does (`system.clientIdentity`). */
export function createSchoolBookings(
  system: ServiceAddresses<'bookings'>,
  tenantId: string,
  actor = 'tools',
): SchoolBookings {
  const client = serviceGrpcClient<BookingsGrpc, 'bookings'>(system, 'bookings', 15_000);
  const call: BookingsCall = (method, req) =>
    callUnary(method(client).bind(client), req, callMetadata({ tenantId, actor }));
  return {
    async bookEvening(bookings, staffId) {
      const { eventId } = await bookEvening(call, {
        title: 'Parents Evening',
        dayOffset: 7,
        startHourUtc: 16,
        hours: 12,
        slotMs: 600_000,
        staffId,
        bookings,
      });
      return { eventId };
    },
    async listBookings(eventId) {
      return (await call((c) => c.listBookings, { eventId, page: { pageSize: 500 } })).bookings;
    },
    close: () => client.close(),
  };
}
