import { randomBytes, randomUUID } from 'node:crypto';
import type { Client } from '@grpc/grpc-js';
import { callMetadata, callUnary, createGrpcClient, loadProtoPackage } from '@isams-sync/grpc';
import type { GrpcClientConstructor, UnaryMethod } from '@isams-sync/grpc';
import {
  AdminApiClient,
  startSystem,
  type RunningSystem,
  type StartSystemOptions,
} from '@isams-sync/testing';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { launchBrowser } from './browser';

/** The BookingsService calls the browser walks make to set up evenings, slots and bookings. */
export interface BrowserBookingsClient extends Client {
  createEvent: UnaryMethod<object, { id: string }>;
  updateEvent: UnaryMethod<object, { id: string; status: string }>;
  createSlots: UnaryMethod<object, { slots: Array<{ id: string }> }>;
  createBooking: UnaryMethod<object, { id: string }>;
  listBookings: UnaryMethod<
    object,
    { bookings: Array<{ id: string; status: string; pendingCancellation: boolean }> }
  >;
}

/** What a browser walk over the whole running system works with (set once `beforeAll` has run). */
export interface WholeSystemInBrowser {
  readonly system: RunningSystem;
  readonly page: Page;
  /** The simulated school (`<schoolPrefix>-<random>`), its Batch API key and an admin token for it. */
  readonly schoolId: string;
  readonly apiKey: string;
  readonly token: string;
  readonly bookingsClient: BrowserBookingsClient;
  /** The school's admin API (`/api/v1/schools/<id><path>`) with the token; throws on a non-2xx answer. */
  api<T>(method: string, path: string, body?: unknown): Promise<T>;
  /** A BookingsService call for the school, as the gateway makes it. */
  bookings<Res>(method: UnaryMethod<object, Res>, req: object): Promise<Res>;
  /**
   * Creates an open parents' evening (`title`, `startsAt` to `endsAt`) with one 10-minute slot per
   * booking from its start, all with `staffId`, and books each: the event's id and the booking ids.
   */
  bookEvening(
    evening: { title: string; startsAt: Date; endsAt: Date },
    staffId: string,
    bookings: ReadonlyArray<{ pupilId: string; contactId?: string | undefined }>,
  ): Promise<{ eventId: string; bookingIds: string[] }>;
}

export interface WholeSystemInBrowserOptions {
  schoolPrefix: string;
  /** The simulated school's seed (same seed ⇒ same data). */
  seed: number;
  /** The options of `startSystem`; a function when they depend on something started first (an SMTP server). */
  system?: StartSystemOptions | (() => Promise<StartSystemOptions>);
  tokenLabel?: string;
}

/**
 * Registers the `beforeAll`/`afterAll` of a browser walk: Debian's chromium, the whole system as
 * processes (simulator, connector, roster, bookings, gateway) on the real Kafka and FerretDB, one
 * simulated small school, an admin token and a BookingsService client — and stops all of it after.
 */
export function useWholeSystemInBrowser(options: WholeSystemInBrowserOptions): WholeSystemInBrowser {
  const schoolId = `${options.schoolPrefix}-${randomBytes(4).toString('hex')}`;
  const apiKey = randomUUID().toUpperCase();
  let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
  let system: RunningSystem | undefined;
  let token = '';
  let client: BrowserBookingsClient | undefined;
  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not started (used outside the tests?)`);
    return value;
  };

  beforeAll(async () => {
    browser = await launchBrowser();
    const systemOptions = typeof options.system === 'function' ? await options.system() : options.system;
    system = await startSystem(systemOptions ?? {});
    await system.simulator.createSchool(schoolId, {
      seed: options.seed,
      size: 'small',
      apiKey,
      cacheMode: 'bypass',
    });
    token = await system.issueToken(schoolId, options.tokenLabel);
    const pkg = loadProtoPackage<{
      isams_sync: { bookings: { v1: { BookingsService: GrpcClientConstructor<BrowserBookingsClient> } } };
    }>('isams_sync/bookings/v1/bookings_service.proto');
    client = createGrpcClient(pkg.isams_sync.bookings.v1.BookingsService, system.bookingsAddress, {
      identity: system.clientIdentity('bookings'),
      deadlineMs: 10_000,
    });
  }, 180_000);

  afterAll(async () => {
    client?.close();
    await browser?.close();
    await system?.stop();
  }, 60_000);

  const bookings = <Res>(method: UnaryMethod<object, Res>, req: object) =>
    callUnary(
      method.bind(started(client, 'the bookings client')) as UnaryMethod<object, Res>,
      req,
      callMetadata({ tenantId: schoolId, actor: 'browser-test' }),
    );
  return {
    get system() {
      return started(system, 'the system');
    },
    get page() {
      return started(browser, 'the browser').page;
    },
    schoolId,
    apiKey,
    get token() {
      return token;
    },
    get bookingsClient() {
      return started(client, 'the bookings client');
    },
    api: <T>(method: string, path: string, body?: unknown) =>
      new AdminApiClient(started(system, 'the system').gatewayUrl, schoolId, token).call<T>(
        method,
        path,
        body,
      ),
    bookings,
    async bookEvening(evening, staffId, booked) {
      const c = started(client, 'the bookings client');
      const event = await bookings(c.createEvent, {
        kind: 'parents_evening',
        title: evening.title,
        startsAt: evening.startsAt.toISOString(),
        endsAt: evening.endsAt.toISOString(),
        status: 'open',
      });
      const start = evening.startsAt.getTime();
      const { slots } = await bookings(c.createSlots, {
        eventId: event.id,
        slots: booked.map((_b, i) => ({
          startsAt: new Date(start + i * 600_000).toISOString(),
          endsAt: new Date(start + (i + 1) * 600_000).toISOString(),
          staffId,
          capacity: 1,
        })),
      });
      const bookingIds: string[] = [];
      for (const [i, b] of booked.entries()) {
        const created = await bookings(c.createBooking, {
          slotId: slots[i]!.id,
          pupilId: b.pupilId,
          ...(b.contactId === undefined ? {} : { contactId: b.contactId }),
        });
        bookingIds.push(created.id);
      }
      return { eventId: event.id, bookingIds };
    },
  };
}
