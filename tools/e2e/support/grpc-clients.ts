import type { Client } from '@grpc/grpc-js';
import { callMetadata, callUnary } from '@isams-sync/grpc';
import type { UnaryMethod } from '@isams-sync/grpc';
import { serviceGrpcClient } from '../../system-client/bookings-client';
import type { BookingsGrpc, ServiceAddresses } from '../../system-client/bookings-client';

export type { BookingView } from '../../system-client/bookings-client';

interface PageInfo {
  nextPageToken: string;
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
export function serviceClients(addresses: ServiceAddresses<'bookings' | 'roster'>): ServiceClients {
  const b = serviceGrpcClient<BookingsGrpc, 'bookings'>(addresses, 'bookings', 20_000);
  const r = serviceGrpcClient<RosterGrpc, 'roster'>(addresses, 'roster', 30_000);
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
