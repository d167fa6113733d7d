/**
 * The bookings product's side of BookingsService over gRPC (as `npm run demo` uses it): create an
 * event with slots, book pupils, list bookings with their cancellation.
 */
import type { Client } from '@grpc/grpc-js';
import { callMetadata, callUnary, createGrpcClient, loadProtoPackage } from '@isams-sync/grpc';
import type { ClientIdentity, GrpcClientConstructor, UnaryMethod } from '@isams-sync/grpc';

export interface BookingView {
  id: string;
  pupilId: string;
  status: string;
  cancellation?: { reason: string; at: string; personKind: string; personId: string } | null;
}

interface BookingsGrpcClient extends Client {
  createEvent: UnaryMethod<object, { id: string; title: string }>;
  createSlots: UnaryMethod<object, { slots: Array<{ id: string }> }>;
  createBooking: UnaryMethod<object, { id: string }>;
  listBookings: UnaryMethod<object, { bookings: BookingView[] }>;
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
  system: { bookingsAddress: string; clientIdentity(audience: string): ClientIdentity },
  tenantId: string,
  actor = 'tools',
): SchoolBookings {
  const pkg = loadProtoPackage<{
    isams_sync: { bookings: { v1: { BookingsService: GrpcClientConstructor<BookingsGrpcClient> } } };
  }>('isams_sync/bookings/v1/bookings_service.proto');
  const client = createGrpcClient(pkg.isams_sync.bookings.v1.BookingsService, system.bookingsAddress, {
    identity: system.clientIdentity('bookings'),
    deadlineMs: 15_000,
  });
  const call = <Res>(method: UnaryMethod<object, Res>, req: object) =>
    callUnary(method.bind(client), req, callMetadata({ tenantId, actor }));
  return {
    async bookEvening(bookings, staffId) {
      const day = new Date(Date.now() + 7 * 86_400_000);
      day.setUTCHours(16, 0, 0, 0);
      const evening = await call(client.createEvent, {
        kind: 'parents_evening',
        title: 'Parents Evening',
        startsAt: day.toISOString(),
        endsAt: new Date(day.getTime() + 12 * 3_600_000).toISOString(),
        status: 'open',
      });
      const { slots } = await call(client.createSlots, {
        eventId: evening.id,
        slots: bookings.map((_b, i) => ({
          startsAt: new Date(day.getTime() + i * 600_000).toISOString(),
          endsAt: new Date(day.getTime() + (i + 1) * 600_000).toISOString(),
          staffId,
          capacity: 1,
        })),
      });
      for (const [i, b] of bookings.entries())
        await call(client.createBooking, {
          slotId: slots[i]!.id,
          pupilId: b.pupilId,
          contactId: b.contactId,
        });
      return { eventId: evening.id };
    },
    async listBookings(eventId) {
      return (await call(client.listBookings, { eventId, page: { pageSize: 500 } })).bookings;
    },
    close: () => client.close(),
  };
}
