import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudEvent, RosterChangeData } from '@isams-sync/events';
import { isAppError, isPermanentKind } from '@isams-sync/errors';
import { uniqueName } from '@isams-sync/testing';
import type { BookingsStore } from '../../src/use-cases/ports';
import { BookingsErrors } from '../../src/domain/bookings-errors';
import {
  createRosterChangeHandler,
  WRITE_CONFLICT_ATTEMPTS,
} from '../../src/use-cases/roster-change.use-case';
import { logger, rosterEvent } from '../support/harness';
import { createOpenEvent, flakyPublisher, seedingUseCases, testStore } from '../support/use-case-kit';

// Several bookings replicas, and several roster replicas whose clocks disagree (audit replicas-s50).
// One store (real FerretDB) for the file; every test seeds a school of its own in it.

const DAY = 86_400_000;
const MINUTE = 60_000;
const HOUR = 3_600_000;

let store: BookingsStore;
let drop: (() => Promise<void>) | undefined;
beforeAll(async () => ({ store, drop } = await testStore('bookings-replicas')));
afterAll(async () => drop?.());

/**
 * A school with pupil p1's booking (contact c1, teacher t1) in an evening five days ahead, or, `live`,
 * in one that started an hour ago and is marked live (a removal holds its bookings).
 */
async function pupilBooking(tenant: string, { live = false } = {}) {
  const uc = seedingUseCases(store);
  const startsAt = new Date(Date.now() + (live ? -HOUR : 5 * DAY));
  await createOpenEvent(uc, tenant, {
    id: 'ev',
    kind: 'parents_evening',
    title: 'Y9',
    startsAt,
    durationMs: 4 * HOUR,
  });
  await uc.createSlots(tenant, 'ev', [
    { id: 's0', staffId: 't1', startsAt, endsAt: new Date(startsAt.getTime() + 600_000), capacity: 1 },
  ]);
  if (live) await uc.updateEvent(tenant, 'ev', { status: 'live' });
  return uc.createBooking(tenant, { slotId: 's0', pupilId: 'p1', contactId: 'c1' });
}

const statusOf = async (tenant: string, bookingId: string) =>
  (await store.getBooking(tenant, bookingId))?.status;
const typeOf = (e: CloudEvent) => e.type.split('.').slice(-2, -1)[0];

describe('roster replicas whose clocks disagree: bookings orders a person’s changes by their revision', () => {
  // The removal was applied by a roster replica whose clock is 3 minutes ahead, the restore (a later
  // changeset) by one with the true clock: the restore's `time` is before the removal's.
  const t0 = Date.now() - 10 * MINUTE;
  const removedAt = new Date(t0 + 3 * MINUTE);
  const restoredAt = new Date(t0 + 10_000);

  it('a restore of a later changeset reinstates the booking though its time is earlier than the removal’s', async () => {
    const tenant = uniqueName('school');
    const booking = await pupilBooking(tenant);
    const handler = createRosterChangeHandler({ store, publisher: flakyPublisher(), logger });
    const removed = rosterEvent(tenant, 'pupil', 'removed', 'p1', {
      syncRunId: 'r2',
      time: removedAt,
      revision: { changeset: 2, change: 7 },
    });
    const restored = rosterEvent(tenant, 'pupil', 'restored', 'p1', {
      syncRunId: 'r3',
      time: restoredAt,
      revision: { changeset: 3, change: 0 },
    });

    expect((await handler.handle(removed)).status).toBe('applied');
    expect((await handler.handle(restored)).status).toBe('applied');

    expect(await statusOf(tenant, booking.id)).toBe('booked');
    expect(await store.getPersonState(tenant, 'pupil', 'p1')).toMatchObject({
      state: 'present',
      rosterEventId: restored.id,
      revision: { changeset: 3, change: 0 },
    });
  });

  it('a replayed removal of an earlier changeset is stale though its time is later (one by one and in a batch)', async () => {
    const tenant = uniqueName('school');
    const booking = await pupilBooking(tenant);
    const handler = createRosterChangeHandler({ store, publisher: flakyPublisher(), logger });
    const removed = (syncRunId: string, changeset: number) =>
      rosterEvent(tenant, 'pupil', 'removed', 'p1', {
        syncRunId,
        time: removedAt,
        revision: { changeset, change: 1 },
      });
    const restored = rosterEvent(tenant, 'pupil', 'restored', 'p1', {
      syncRunId: 'r3',
      time: restoredAt,
      revision: { changeset: 3, change: 0 },
    });
    await handler.handle(removed('r2', 2));
    await handler.handle(restored);

    expect((await handler.handle(removed('r2b', 2))).status).toBe('stale');
    expect((await handler.handleBatch([removed('r2c', 2)]))[0]!.status).toBe('stale');
    expect(await statusOf(tenant, booking.id)).toBe('booked');
    expect((await store.getPersonState(tenant, 'pupil', 'p1'))?.state).toBe('present');
  });

  it('when the applied change or the new one has no revision (from before revisions existed), `time` orders them', async () => {
    const tenant = uniqueName('school');
    const booking = await pupilBooking(tenant);
    const handler = createRosterChangeHandler({ store, publisher: flakyPublisher(), logger });
    await handler.handle(
      rosterEvent(tenant, 'pupil', 'removed', 'p1', { syncRunId: 'r1', time: new Date(t0) }),
    );

    const olderRestore = rosterEvent(tenant, 'pupil', 'restored', 'p1', {
      syncRunId: 'r2',
      time: new Date(t0 - 1_000),
      revision: { changeset: 9, change: 0 },
    });
    expect((await handler.handle(olderRestore)).status).toBe('stale');
    const laterRestore = rosterEvent(tenant, 'pupil', 'restored', 'p1', {
      syncRunId: 'r3',
      time: new Date(t0 + 1_000),
      revision: { changeset: 10, change: 0 },
    });
    expect((await handler.handle(laterRestore)).status).toBe('applied');
    expect(await statusOf(tenant, booking.id)).toBe('booked');
  });
});

type StoreMethod = (...args: unknown[]) => Promise<unknown>;

/** `store` with the methods in `methods` replaced by `wrap` of the real one. */
function storeWith(methods: ReadonlyArray<keyof BookingsStore>, wrap: (real: StoreMethod) => StoreMethod) {
  return new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      const bound = (value as StoreMethod).bind(target);
      return methods.includes(prop as keyof BookingsStore) ? wrap(bound) : bound;
    },
  });
}

/**
 * `store` whose method `method` waits, when first called, until `release()` (a replica stalled by a GC
 * pause or a slow database, or that lost its group membership); `reached` settles when it got there.
 */
function stalledAt(method: keyof BookingsStore) {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let reach!: () => void;
  const reached = new Promise<void>((r) => (reach = r));
  let stalled = false;
  const stalling = storeWith([method], (real) => async (...args) => {
    if (!stalled) {
      stalled = true;
      reach();
      await gate;
    }
    return real(...args);
  });
  return { store: stalling, reached, release };
}

describe('two bookings replicas, one stalled across a rebalance: a removal the other replica already undid changes nothing', () => {
  const cases: Array<{ name: string; at: keyof BookingsStore; batch: boolean }> = [
    { name: 'stalled before its cancellation (one event)', at: 'cancel', batch: false },
    { name: 'stalled before reading the bookings (one event)', at: 'bookingsOfPerson', batch: false },
    { name: 'stalled before its cancellations (a batch)', at: 'cancelBookings', batch: true },
    { name: 'stalled before reading the bookings (a batch)', at: 'bookingsNamingAny', batch: true },
  ];
  for (const { name, at, batch } of cases) {
    it(`${name}: the reinstated booking stays booked, the person present, and it publishes nothing`, async () => {
      const tenant = uniqueName('school');
      const booking = await pupilBooking(tenant);
      const t0 = Date.now() - MINUTE;
      const removed = rosterEvent(tenant, 'pupil', 'removed', 'p1', {
        syncRunId: 'r2',
        time: new Date(t0 + 1_000),
        revision: { changeset: 2, change: 0 },
      });
      const restored = rosterEvent(tenant, 'pupil', 'restored', 'p1', {
        syncRunId: 'r3',
        time: new Date(t0 + 2_000),
        revision: { changeset: 3, change: 0 },
      });
      const stall = stalledAt(at);
      const publishedByA = flakyPublisher();
      const a = createRosterChangeHandler({ store: stall.store, publisher: publishedByA, logger });
      const b = createRosterChangeHandler({ store, publisher: flakyPublisher(), logger });

      const aDone = batch ? a.handleBatch([removed]) : a.handle(removed);
      await stall.reached;
      // The partition moved to B, which delivers from the last commit: the removal, then the restore.
      await b.handle(removed);
      await b.handle(restored);
      expect(await statusOf(tenant, booking.id)).toBe('booked');
      stall.release();
      await aDone;

      const final = await store.getBooking(tenant, booking.id);
      expect(final?.status).toBe('booked');
      expect(final?.history.map((h) => h.action)).toEqual(['booked', 'cancelled', 'reinstated']);
      expect(await store.getPersonState(tenant, 'pupil', 'p1')).toMatchObject({
        state: 'present',
        rosterEventId: restored.id,
      });
      expect(publishedByA.sent.map(typeOf)).toEqual([]);
    });
  }

  it('a removal delivered again after a crash before its record still ends in the same state with the same event ids', async () => {
    const tenant = uniqueName('school');
    const booking = await pupilBooking(tenant);
    let crash = true;
    const crashing = storeWith(
      ['markProcessed', 'markAllProcessed'],
      (real) =>
        (...args) =>
          crash ? Promise.reject(new Error('crash')) : real(...args),
    );
    const publisher = flakyPublisher();
    const removed = rosterEvent(tenant, 'pupil', 'removed', 'p1', { revision: { changeset: 2, change: 0 } });
    const second = rosterEvent(tenant, 'contact', 'removed', 'c9', { revision: { changeset: 2, change: 1 } });

    await expect(
      createRosterChangeHandler({ store: crashing, publisher, logger }).handleBatch([removed, second]),
    ).rejects.toThrow('crash');
    crash = false;
    const outcome = await createRosterChangeHandler({ store, publisher, logger }).handle(removed);

    expect(outcome.status).toBe('applied');
    expect(await statusOf(tenant, booking.id)).toBe('cancelled');
    expect(await store.getPersonState(tenant, 'pupil', 'p1')).toMatchObject({
      state: 'removed',
      rosterEventId: removed.id,
      revision: { changeset: 2, change: 0 },
    });
    expect(publisher.sent.map(typeOf)).toEqual(['cancelled', 'cancelled']);
    expect(new Set(publisher.sent.map((e) => e.id)).size).toBe(1);
  });
});

/** p1's (or `who`'s) roster change of changeset `changeset`, applied `changeset` seconds after a minute ago. */
function changeOf(
  tenant: string,
  change: 'removed' | 'restored',
  changeset: number,
  who: { kind: 'pupil' | 'contact'; id: string } = { kind: 'pupil', id: 'p1' },
) {
  return rosterEvent(tenant, who.kind, change, who.id, {
    syncRunId: `r${changeset}`,
    time: new Date(Date.now() - MINUTE + changeset * 1_000),
    revision: { changeset, change: 0 },
  });
}

/** p1's removal (changeset 2), restore (3) and next removal (4). */
const removedRestoredRemoved = (tenant: string) =>
  [changeOf(tenant, 'removed', 2), changeOf(tenant, 'restored', 3), changeOf(tenant, 'removed', 4)] as const;

type RosterChangeHandler = ReturnType<typeof createRosterChangeHandler>;

/**
 * Replica A runs `run` over a store that stalls at `method` ({@link stalledAt}); while it stalls,
 * replica B (which took the partition) applies `meanwhile`, in order; then A wakes. A's outcome and
 * the types of what A published.
 */
async function stalledAcross(
  method: keyof BookingsStore,
  run: (a: RosterChangeHandler) => Promise<unknown>,
  meanwhile: ReadonlyArray<CloudEvent<RosterChangeData>>,
) {
  const stall = stalledAt(method);
  const publishedByA = flakyPublisher();
  const done = run(createRosterChangeHandler({ store: stall.store, publisher: publishedByA, logger }));
  await stall.reached;
  const b = createRosterChangeHandler({ store, publisher: flakyPublisher(), logger });
  for (const event of meanwhile) await b.handle(event);
  stall.release();
  return { outcome: await done, publishedByA: publishedByA.sent.map(typeOf) };
}

const handlerOf = () => createRosterChangeHandler({ store, publisher: flakyPublisher(), logger });

describe('two bookings replicas, one stalled over a restore: it writes only over the booking as it read it', () => {
  const cases: Array<{ name: string; at: keyof BookingsStore }> = [
    { name: 'stalled before its reinstatement', at: 'reinstate' },
    { name: 'stalled before reading the cancelled bookings', at: 'cancelledByRemovalOf' },
  ];
  for (const { name, at } of cases) {
    it(`${name}: a booking a newer removal cancelled again stays cancelled, and it publishes nothing`, async () => {
      const tenant = uniqueName('school');
      const booking = await pupilBooking(tenant);
      const [removed, restored, removedAgain] = removedRestoredRemoved(tenant);
      await handlerOf().handle(removed);

      // B applies the restore, then the person's next removal.
      const a = await stalledAcross(at, (h) => h.handle(restored), [restored, removedAgain]);

      expect(a.outcome).toMatchObject({ reinstated: 0, notReinstated: 0 });
      const final = await store.getBooking(tenant, booking.id);
      expect(final?.status).toBe('cancelled');
      expect(final?.cancellation?.roster?.rosterEventId).toBe(removedAgain.id);
      expect(final?.history.map((h) => h.action)).toEqual(['booked', 'cancelled', 'reinstated', 'cancelled']);
      expect(await store.getPersonState(tenant, 'pupil', 'p1')).toMatchObject({
        state: 'removed',
        rosterEventId: removedAgain.id,
      });
      expect(a.publishedByA).toEqual([]);
    });
  }

  it('stalled before recording why not: a booking the other person’s restore reinstated meanwhile stays booked', async () => {
    const tenant = uniqueName('school');
    const booking = await pupilBooking(tenant);
    const contact = { kind: 'contact' as const, id: 'c1' };
    await handlerOf().handle(changeOf(tenant, 'removed', 2));
    await handlerOf().handle(changeOf(tenant, 'removed', 3, contact));
    const restored = changeOf(tenant, 'restored', 4);
    const contactRestored = changeOf(tenant, 'restored', 5, contact);

    // A decides p1's booking is not reinstated (c1 is removed too) and stalls before recording it;
    // B applies p1's restore (the same decision) and c1's, which reinstates the booking.
    const a = await stalledAcross('recordNotReinstated', (h) => h.handle(restored), [
      restored,
      contactRestored,
    ]);

    expect(a.outcome).toMatchObject({ reinstated: 0, notReinstated: 0 });
    const final = await store.getBooking(tenant, booking.id);
    expect(final?.status).toBe('booked');
    expect(final?.reinstatement).toMatchObject({ rosterEventId: contactRestored.id, outcome: 'reinstated' });
    expect(final?.history.map((h) => h.action)).toEqual([
      'booked',
      'cancelled',
      'not_reinstated',
      'reinstated',
    ]);
    expect(a.publishedByA).toEqual([]);
  });
});

describe('two bookings replicas, one stalled over a hold or its release: it writes only over the hold as it read it', () => {
  for (const batch of [false, true]) {
    it(`stalled before its hold (${batch ? 'a batch' : 'one event'}): a booking held and released meanwhile is not held again`, async () => {
      const tenant = uniqueName('school');
      const booking = await pupilBooking(tenant, { live: true });
      const [removed, restored] = [changeOf(tenant, 'removed', 2), changeOf(tenant, 'restored', 3)];

      const a = await stalledAcross(
        'setPending',
        (h) => (batch ? h.handleBatch([removed]) : h.handle(removed)),
        [removed, restored],
      );

      const final = await store.getBooking(tenant, booking.id);
      expect(final?.status).toBe('booked');
      expect(final?.pendingCancellation).toBeUndefined();
      expect(final?.history.map((h) => h.action)).toEqual(['booked', 'cancellation_held', 'hold_cleared']);
      expect(a.publishedByA).toEqual([]);
    });
  }

  it('stalled before releasing the hold: a hold a newer removal wrote meanwhile stays', async () => {
    const tenant = uniqueName('school');
    const booking = await pupilBooking(tenant, { live: true });
    const [removed, restored, removedAgain] = removedRestoredRemoved(tenant);
    await handlerOf().handle(removed);

    const a = await stalledAcross('clearPending', (h) => h.handle(restored), [restored, removedAgain]);

    const final = await store.getBooking(tenant, booking.id);
    expect(final?.pendingCancellation?.causes.map((c) => c.rosterEventId)).toEqual([removedAgain.id]);
    expect(final?.history.map((h) => h.action)).toEqual([
      'booked',
      'cancellation_held',
      'hold_cleared',
      'cancellation_held',
    ]);
    expect(a.publishedByA).toEqual([]);
  });
});

describe('another writer changes a booking between a roster change’s read and its write: the change looks again', () => {
  // Here the other writer is another person's removal applied in between (a replica that took the
  // partition, the end-of-evening sweep or an admin acting on the booking change it the same way):
  // the write as read misses, and the change must not be lost — it is decided again on what is there.
  for (const batch of [false, true]) {
    it(`the contact's hold (${batch ? 'a batch' : 'one event'}) is written beside the pupil's hold written meanwhile`, async () => {
      const tenant = uniqueName('school');
      const booking = await pupilBooking(tenant, { live: true });
      const pupilRemoved = changeOf(tenant, 'removed', 2);
      const contactRemoved = changeOf(tenant, 'removed', 3, { kind: 'contact', id: 'c1' });

      const a = await stalledAcross(
        'setPending',
        (h) => (batch ? h.handleBatch([contactRemoved]) : h.handle(contactRemoved)),
        [pupilRemoved],
      );

      const held = await store.getBooking(tenant, booking.id);
      expect(held?.status).toBe('booked');
      expect(held?.pendingCancellation?.causes.map((c) => c.rosterEventId).sort()).toEqual(
        [pupilRemoved.id, contactRemoved.id].sort(),
      );
      expect(a.outcome).toMatchObject(
        batch ? [{ status: 'applied', held: 1 }] : { status: 'applied', held: 1 },
      );
      expect(a.publishedByA).toEqual(['cancellation-held']);

      // The pupil comes back; the contact is still removed: the booking stays held by the contact.
      await handlerOf().handle(changeOf(tenant, 'restored', 4));
      const final = await store.getBooking(tenant, booking.id);
      expect(final?.pendingCancellation?.causes.map((c) => c.rosterEventId)).toEqual([contactRemoved.id]);
    });
  }
});

describe('a write that misses every time (a bug, not a race): the change is dead-lettered, not retried for ever', () => {
  it(`after ${WRITE_CONFLICT_ATTEMPTS} attempts the handler fails with a permanent error naming the booking`, async () => {
    const tenant = uniqueName('school');
    const booking = await pupilBooking(tenant, { live: true });
    const never = storeWith(['setPending'], () => async () => false);
    let tries = 0;
    const counting = new Proxy(never, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown;
        if (prop !== 'bookingsOfPerson' || typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          tries += 1;
          return (value as StoreMethod)(...args);
        };
      },
    });
    const handler = createRosterChangeHandler({ store: counting, publisher: flakyPublisher(), logger });
    const err = await handler.handle(changeOf(tenant, 'removed', 2)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(BookingsErrors.BOOKINGS_WRITE_CONFLICT_PERSISTS.is(err)).toBe(true);
    expect(isAppError(err) && isPermanentKind(err.kind)).toBe(true);
    expect((err as Error).message).toContain(booking.id);
    expect(tries).toBe(WRITE_CONFLICT_ATTEMPTS);
  });
});

describe('a batch of two schools whose second school meets a changed booking', () => {
  it('keeps the first school as applied and decides only the second again', async () => {
    const [first, second] = [uniqueName('school'), uniqueName('school')];
    const [kept, held] = [await pupilBooking(first), await pupilBooking(second, { live: true })];
    let missed = false;
    // The second school's first hold misses once (another writer changed the booking meanwhile).
    const missOnce = storeWith(['setPending'], (real) => async (...args) => {
      if (!missed && args[0] === second) {
        missed = true;
        return false;
      }
      return real(...args);
    });
    const handler = createRosterChangeHandler({ store: missOnce, publisher: flakyPublisher(), logger });
    const outcomes = await handler.handleBatch([
      changeOf(first, 'removed', 2),
      changeOf(second, 'removed', 2),
    ]);

    expect(missed).toBe(true);
    expect(outcomes).toMatchObject([
      { status: 'applied', cancelled: 1 },
      { status: 'applied', held: 1 },
    ]);
    expect(await statusOf(first, kept.id)).toBe('cancelled');
    expect((await store.getBooking(second, held.id))?.pendingCancellation?.causes).toHaveLength(1);
  });
});
