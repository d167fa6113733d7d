import { createGrpcServer, GrpcCallError, loadProtoPackage, loadServiceKeyring } from '@isams-sync/grpc';
import type { BookingsServiceProtoGrpcType, GrpcServerHandle } from '@isams-sync/grpc';
import { GrpcStatus } from '@isams-sync/errors';
import { createLogger } from '@isams-sync/logger';
import { testServiceIdentityDir } from '@isams-sync/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Booking } from '../../src/domain/booking-model';
import { BOOKINGS_CALLERS, bookingsGrpcHandlers } from '../../src/handlers/grpc/bookings.grpc';
import type { BookingsUseCases } from '../../src/use-cases/bookings.use-cases';
import { bookingsClient } from '../support/bookings-client';

// The BookingsService's request validation over a real in-process gRPC server, with use cases that
// only record what they are asked (no database, no broker).

/** What the handlers passed on to the use cases, per use case. */
const seen: Record<string, unknown[]> = {};

const at = new Date('2030-03-01T17:00:00Z');
const booked = (input: {
  slotId: string;
  staffId?: string;
  pupilId: string;
  contactId: string;
}): Booking => ({
  id: 'b1',
  eventId: 'ev1',
  slotId: input.slotId,
  staffId: input.staffId ?? 'T 1',
  pupilId: input.pupilId,
  contactId: input.contactId,
  startsAt: at,
  endsAt: new Date(at.getTime() + 600_000),
  seat: 0,
  status: 'booked',
  createdAt: at,
  history: [],
});

const record = (name: string, args: unknown) => (seen[name] ??= []).push(args);
const useCases = {
  previewRemovalImpact: (_t: string, removals: unknown) => {
    record('previewRemovalImpact', removals);
    return Promise.resolve({ events: [], totalCancel: 0, totalHold: 0, familiesAffected: 0 });
  },
  createBooking: (_t: string, input: Parameters<typeof booked>[0]) => {
    record('createBooking', input);
    return Promise.resolve(booked(input));
  },
  listBookings: (_t: string, filter: unknown) => {
    record('listBookings', filter);
    return Promise.resolve({ items: [], total: 0 });
  },
  runReinstatementReport: (_t: string, _run: string, restoring: unknown) => {
    record('runReinstatementReport', restoring);
    return Promise.resolve([]);
  },
  createSlots: (_t: string, _event: string, slots: unknown) => {
    record('createSlots', slots);
    return Promise.resolve([]);
  },
} as unknown as BookingsUseCases;

let server: GrpcServerHandle;
let call: ReturnType<typeof bookingsClient>['call'];
let close: () => void;

beforeAll(async () => {
  const pkg = loadProtoPackage<BookingsServiceProtoGrpcType>('isams_sync/bookings/v1/bookings_service.proto');
  server = await createGrpcServer({
    logger: createLogger({ service: 'bookings-test', level: 'silent' }),
    port: 0,
    host: '127.0.0.1',
    identity: loadServiceKeyring(testServiceIdentityDir(), 'bookings'),
    services: [
      {
        name: 'isams_sync.bookings.v1.BookingsService',
        definition: pkg.isams_sync.bookings.v1.BookingsService.service,
        implementation: bookingsGrpcHandlers(useCases),
        callers: BOOKINGS_CALLERS,
      },
    ],
  });
  const made = bookingsClient(server.port);
  call = made.call;
  close = () => made.client.close();
});
afterAll(async () => {
  close();
  await server.shutdown(1000);
});
beforeEach(() => {
  for (const key of Object.keys(seen)) delete seen[key];
});

async function refusal(p: Promise<unknown>): Promise<GrpcCallError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GrpcCallError);
  return err as GrpcCallError;
}

const tenant = 'school-1';

// Audit s51 #2: the roster publishes any non-empty entity id (libs/events `entityId`), and the
// gateway previews removals with those ids — a negative iSAMS id (`-1`: the id reader accepts a
// sign), or an id with a space or `/`, was refused with INVALID_ARGUMENT, so an admin could not see
// which bookings an approval would cancel.
describe('person ids: every id the roster can publish is accepted', () => {
  const odd = ['SCH 0042/7', '-1', 'c1234-2', 'Ødegård, J.', "O'Neil #3", 'x'.repeat(200)];

  it('previews the removal of people with such ids, passing them on unchanged', async () => {
    await call(
      'PreviewRemovalImpact',
      { removals: odd.map((id) => ({ kind: 'pupil', id })), heldBatchId: 'hb-1' },
      tenant,
    );
    expect(seen.previewRemovalImpact).toEqual([odd.map((personId) => ({ kind: 'pupil', personId }))]);
  });

  it('books, lists and reports on people with such ids', async () => {
    await call(
      'CreateBooking',
      { slotId: 'ev1-s0', staffId: 'T/12 A', pupilId: 'SCH 0042/7', contactId: '-3' },
      tenant,
    );
    expect(seen.createBooking).toEqual([
      { slotId: 'ev1-s0', staffId: 'T/12 A', pupilId: 'SCH 0042/7', contactId: '-3' },
    ]);
    await call('ListBookings', { pupilId: 'SCH 0042/7' }, tenant);
    await call('ListBookings', { contactId: '-3' }, tenant);
    expect(seen.listBookings).toEqual([{ pupilId: 'SCH 0042/7' }, { contactId: '-3' }]);
    await call(
      'RunReinstatementReport',
      { syncRunId: 'run-1', restoring: [{ kind: 'staff', id: 'T/12 A' }] },
      tenant,
    );
    expect(seen.runReinstatementReport).toEqual([[{ kind: 'staff', personId: 'T/12 A' }]]);
    await call(
      'CreateSlots',
      {
        eventId: 'ev1',
        slots: [{ startsAt: '2030-03-01T17:00:00Z', endsAt: '2030-03-01T17:10:00Z', staffId: 'T/12 A' }],
      },
      tenant,
    );
    expect(seen.createSlots).toMatchObject([[{ staffId: 'T/12 A' }]]);
  });

  it('still refuses an empty id, a control character or more than 200 characters, naming the field', async () => {
    const err = await refusal(
      call(
        'PreviewRemovalImpact',
        {
          removals: [
            { kind: 'pupil', id: '' },
            { kind: 'pupil', id: 'a\nb' },
            { kind: 'pupil', id: 'a\u0000b' },
            { kind: 'pupil', id: 'x'.repeat(201) },
            { kind: 'pupil', id: 'ok' },
          ],
        },
        tenant,
      ),
    );
    expect(err.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(err.errorCode).toBe('BOOKINGS_INVALID_REQUEST');
    expect((err.details?.fields as Array<{ field: string }>).map((f) => f.field)).toEqual([
      'removals[0].id',
      'removals[1].id',
      'removals[2].id',
      'removals[3].id',
    ]);
    expect(seen.previewRemovalImpact).toBeUndefined();
  });
});

// Audit s51 #1: 500+ bad entries made an error too big for the trailers (the client saw a protocol
// error). The request parser names the first problems and counts the rest.
describe('a request with many bad fields', () => {
  it('is refused with BOOKINGS_INVALID_REQUEST naming the first 10 problems and counting the rest', async () => {
    const removals = Array.from({ length: 20_000 }, () => ({ kind: 'x', id: '-' }));
    const err = await refusal(call('PreviewRemovalImpact', { removals }, tenant));
    expect(err.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(err.errorCode).toBe('BOOKINGS_INVALID_REQUEST');
    const fields = err.details?.fields as Array<{ field: string; problem: string }>;
    expect(fields).toHaveLength(11);
    expect(fields[0]).toEqual({ field: 'removals[0].kind', problem: 'pupil, staff or contact' });
    expect(fields[10]).toEqual({ field: '(request)', problem: '19990 more problems not listed' });
    expect(err.grpcMessage).toMatch(
      /^Invalid request: removals\[0\]\.kind: pupil, staff or contact; .*; \(request\): 19990 more problems not listed$/,
    );
    expect(seen.previewRemovalImpact).toBeUndefined();
  });
});
