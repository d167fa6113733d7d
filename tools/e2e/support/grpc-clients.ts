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
  cancellation?: { reason: string; personKind: string; personId: string; rosterEventId: string } | null;
}
interface PageInfo {
  nextPageToken: string;
}

interface BookingsGrpc extends Client {
  createEvent: UnaryMethod<object, { id: string; title: string }>;
  updateEvent: UnaryMethod<object, { id: string; status: string }>;
  createSlots: UnaryMethod<object, { slots: Array<{ id: string }> }>;
  createBooking: UnaryMethod<object, { id: string }>;
  listBookings: UnaryMethod<object, { bookings: BookingView[]; page?: PageInfo | null }>;
}
export interface RosterEntityView {
  entityType: string;
  entityId: string;
  status: string;
  dataJson: string;
  purged?: boolean;
}
interface RosterGrpc extends Client {
  listEntities: UnaryMethod<object, { entities: RosterEntityView[]; page?: PageInfo | null }>;
}

/** BookingsService and RosterService as a test reaches them (gRPC, one tenant per call). */
export interface ServiceClients {
  bookings<Res>(
    tenantId: string,
    method: (c: BookingsGrpc) => UnaryMethod<object, Res>,
    req: object,
  ): Promise<Res>;
  roster<Res>(
    tenantId: string,
    method: (c: RosterGrpc) => UnaryMethod<object, Res>,
    req: object,
  ): Promise<Res>;
  close(): void;
}

/** Clients of bookings and roster calling as the gateway does (with its service identity). */
export function serviceClients(addresses: {
  bookingsAddress: string;
  rosterAddress: string;
  clientIdentity(audience: string): ClientIdentity;
}): ServiceClients {
  const bookingsPkg = loadProtoPackage<{
    isams_sync: { bookings: { v1: { BookingsService: GrpcClientConstructor<BookingsGrpc> } } };
  }>('isams_sync/bookings/v1/bookings_service.proto');
  const rosterPkg = loadProtoPackage<{
    isams_sync: { roster: { v1: { RosterService: GrpcClientConstructor<RosterGrpc> } } };
  }>('isams_sync/roster/v1/roster_service.proto');
  const b = createGrpcClient(bookingsPkg.isams_sync.bookings.v1.BookingsService, addresses.bookingsAddress, {
    identity: addresses.clientIdentity('bookings'),
    deadlineMs: 20_000,
  });
  const r = createGrpcClient(rosterPkg.isams_sync.roster.v1.RosterService, addresses.rosterAddress, {
    identity: addresses.clientIdentity('roster'),
    deadlineMs: 30_000,
  });
  const md = (tenantId: string) => callMetadata({ tenantId, actor: 'e2e' });
  return {
    bookings: (tenantId, method, req) =>
      retryUnavailable(() => callUnary(method(b).bind(b), req, md(tenantId))),
    roster: (tenantId, method, req) =>
      retryUnavailable(() => callUnary(method(r).bind(r), req, md(tenantId))),
    close() {
      b.close();
      r.close();
    },
  };
}

const UNAVAILABLE = 14;

/**
 * Retries a call answered UNAVAILABLE (as gRPC clients should: e.g. the service's database is
 * being restarted) for up to `budgetMs`; any other error, or the last UNAVAILABLE, is thrown.
 */
async function retryUnavailable<T>(call: () => Promise<T>, budgetMs = 60_000): Promise<T> {
  const deadline = Date.now() + budgetMs;
  for (;;) {
    try {
      return await call();
    } catch (err) {
      if ((err as { code?: unknown }).code !== UNAVAILABLE || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
