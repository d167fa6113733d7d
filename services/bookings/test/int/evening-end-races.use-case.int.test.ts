import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '@isams-sync/testing';
import type { BookingsStore } from '../../src/use-cases/ports';
import { createRosterChangeHandler } from '../../src/use-cases/roster-change.use-case';
import { createBookingsUseCases } from '../../src/use-cases/bookings.use-cases';
import { logger, rosterEvent } from '../support/harness';
import { createOpenEvent, flakyPublisher, seedingUseCases, testStore } from '../support/use-case-kit';

const DAY = 86_400_000;
const HOUR = 3_600_000;

// One store (real FerretDB) for the file; every test seeds a school of its own in it.
let store: BookingsStore;
let drop: (() => Promise<void>) | undefined;
beforeAll(async () => ({ store, drop } = await testStore('bookings-evening-races')));
afterAll(async () => drop?.());

/**
 * The store with `between` run once right after the first call of `method` returns: another process
 * acting between two steps of this one.
 */
function interleaved(target: BookingsStore, method: keyof BookingsStore, between: () => Promise<unknown>) {
  let armed = true;
  return new Proxy(target, {
    get(t, prop, receiver) {
      const value = Reflect.get(t, prop, receiver) as unknown;
      if (prop !== method || typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const result = (await (value as (...a: unknown[]) => Promise<unknown>).apply(t, args)) as unknown;
        if (armed) {
          armed = false;
          await between();
        }
        return result;
      };
    },
  });
}

/** A parents' evening tonight (started an hour ago, 4 hours long), marked live, with p1's booking. */
async function liveEvening(tenant: string) {
  const uc = seedingUseCases(store);
  const startsAt = new Date(Date.now() - HOUR);
  await createOpenEvent(uc, tenant, {
    id: 'tonight',
    kind: 'parents_evening',
    title: 'Tonight',
    startsAt,
    durationMs: 4 * HOUR,
  });
  await uc.createSlots(tenant, 'tonight', [
    { id: 's0', staffId: 't1', capacity: 1, startsAt, endsAt: new Date(startsAt.getTime() + HOUR) },
  ]);
  await uc.updateEvent(tenant, 'tonight', { status: 'live' });
  return { uc, booking: await uc.createBooking(tenant, { slotId: 's0', pupilId: 'p1', contactId: 'c1' }) };
}

const useCases = (s: BookingsStore, now?: () => Date) =>
  createBookingsUseCases({
    store: s,
    publisher: flakyPublisher(),
    roster: { personExists: () => Promise.resolve(true) },
    ...(now ? { now } : {}),
  });

describe('the end of an evening racing the consumer', () => {
  it('the sweep does not cancel a booking whose hold a restore cleared after the sweep read it', async () => {
    const tenant = uniqueName('school');
    const { booking } = await liveEvening(tenant);
    const handler = createRosterChangeHandler({ store, publisher: flakyPublisher(), logger });
    await handler.handle(rosterEvent(tenant, 'pupil', 'removed', 'p1', { syncRunId: 'r1' }));
    expect((await store.getBooking(tenant, booking.id))?.pendingCancellation).toBeDefined();

    // Two days on (the evening, started an hour ago, may run past midnight: the next day can still be
    // its last) the sweep reads the held bookings; p1's restore is applied before it cancels.
    const restore = rosterEvent(tenant, 'pupil', 'restored', 'p1', {
      syncRunId: 'r2',
      time: new Date(Date.now() + 1000),
    });
    const sweepStore = interleaved(store, 'pendingInEvent', () => handler.handle(restore));
    const sweep = useCases(sweepStore, () => new Date(Date.now() + 2 * DAY));
    await sweep.resolveEndedEvenings();

    const after = await store.getBooking(tenant, booking.id);
    expect(after?.status).toBe('booked');
    expect(after?.pendingCancellation).toBeUndefined();
    expect(after?.history.map((h) => h.action)).toEqual(['booked', 'cancellation_held', 'hold_cleared']);
  });

  it('a hold the consumer writes after the admin finished the evening (and its resolution ran) is resolved, not left behind', async () => {
    const tenant = uniqueName('school');
    const { uc, booking } = await liveEvening(tenant);
    // The consumer has put the evening on the work list and is about to write the hold; the admin
    // finishes the evening meanwhile (its resolution finds nothing held yet).
    const consumerStore = interleaved(store, 'noteHeldEvening', () =>
      uc.updateEvent(tenant, 'tonight', { status: 'finished' }),
    );
    const publisher = flakyPublisher();
    const handler = createRosterChangeHandler({ store: consumerStore, publisher, logger });
    await handler.handle(rosterEvent(tenant, 'pupil', 'removed', 'p1', { syncRunId: 'r1' }));
    // Whatever the sweep still has to do, it does now.
    await useCases(store).resolveEndedEvenings();

    expect(await store.getBooking(tenant, booking.id)).toMatchObject({
      status: 'cancelled',
      cancellation: {
        reason: 'roster_removal_event_finished',
        roster: { personKind: 'pupil', personId: 'p1' },
      },
    });
    expect(await store.pendingInEvent(tenant, 'tonight')).toEqual([]);
    expect(await store.heldEvenings(tenant)).toEqual([]);
    expect((await useCases(store).listEvenings(tenant)).evenings).toEqual([]);
    expect(publisher.sent.map((e) => e.type.split('.').slice(-2, -1)[0])).toEqual([
      'cancellation-held',
      'cancelled',
    ]);
  });

  it('the same when the removal comes in a batch', async () => {
    const tenant = uniqueName('school');
    const { uc, booking } = await liveEvening(tenant);
    const consumerStore = interleaved(store, 'noteHeldEvening', () =>
      uc.updateEvent(tenant, 'tonight', { status: 'finished' }),
    );
    const handler = createRosterChangeHandler({ store: consumerStore, publisher: flakyPublisher(), logger });
    await handler.handleBatch([
      rosterEvent(tenant, 'pupil', 'removed', 'p1', { syncRunId: 'r1' }),
      rosterEvent(tenant, 'pupil', 'removed', 'p7', { syncRunId: 'r1' }),
    ]);
    await useCases(store).resolveEndedEvenings();
    expect((await store.getBooking(tenant, booking.id))?.status).toBe('cancelled');
    expect(await store.heldEvenings(tenant)).toEqual([]);
  });
});

describe('a released hold is published, also when the publish failed the first time', () => {
  const typeOf = (e: { type: string }) => e.type.split('.').slice(-2, -1)[0];

  it('a restore that cleared the hold before its publish failed publishes the release on its re-run', async () => {
    const tenant = uniqueName('school');
    const { booking } = await liveEvening(tenant);
    const publisher = flakyPublisher();
    const handler = createRosterChangeHandler({ store, publisher, logger });
    await handler.handle(rosterEvent(tenant, 'pupil', 'removed', 'p1', { syncRunId: 'r1' }));
    const restore = rosterEvent(tenant, 'pupil', 'restored', 'p1', {
      syncRunId: 'r1',
      time: new Date(Date.now() + 1000),
    });

    publisher.failOnce();
    await expect(handler.handle(restore)).rejects.toThrow('broker down');
    expect((await store.getBooking(tenant, booking.id))?.pendingCancellation).toBeUndefined();
    await handler.handle(restore);

    expect(publisher.sent.map(typeOf)).toEqual(['cancellation-held', 'cancellation-released']);
    expect(publisher.sent[1]).toMatchObject({
      subject: booking.id,
      time: restore.time,
      data: { reason: 'person_restored', roster: { rosterEventId: restore.id, personId: 'p1' } },
    });
    // A duplicate delivery publishes nothing more.
    expect((await handler.handle(restore)).status).toBe('duplicate');
    expect(publisher.sent).toHaveLength(2);
  });

  it('a hold the evening’s end releases (no removal left holding it) is published, again after a failed publish', async () => {
    const tenant = uniqueName('school');
    const { booking } = await liveEvening(tenant);
    // A hold naming no removal: the only one the evening's end releases rather than cancels.
    await store.noteHeldEvening(tenant, 'tonight', new Date());
    await store.setPending(tenant, booking, []);

    // The admin finishes the evening; the resolution's publish fails, the sweep runs it again.
    const publisher = flakyPublisher(1);
    const admin = createBookingsUseCases({
      store,
      publisher,
      roster: { personExists: () => Promise.resolve(true) },
    });
    await expect(admin.updateEvent(tenant, 'tonight', { status: 'finished' })).rejects.toThrow('broker down');
    expect(await store.getBooking(tenant, booking.id)).toMatchObject({ status: 'booked' });
    expect((await store.getBooking(tenant, booking.id))?.pendingCancellation).toBeUndefined();
    await admin.resolveEndedEvenings();

    const mine = publisher.sent.filter((e) => e.tenantid === tenant);
    expect(mine.map(typeOf)).toEqual(['cancellation-released']);
    expect(mine[0]).toMatchObject({
      subject: booking.id,
      data: { bookingId: booking.id, eventId: 'tonight', reason: 'event_finished' },
    });
    expect(mine[0]?.data).not.toHaveProperty('roster');
    expect(await store.heldEvenings(tenant)).toEqual([]);
  });
});
