import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deterministicEventId } from '@isams-sync/events';
import type { CloudEvent, RosterChangeData } from '@isams-sync/events';
import { uniqueName } from '@isams-sync/testing';
import type { BookingsStore } from '../../src/use-cases/ports';
import type { Booking } from '../../src/domain/booking-model';
import { createRosterChangeHandler } from '../../src/use-cases/roster-change.use-case';
import { logger, rosterEvent } from '../support/harness';
import { createOpenEvent, flakyPublisher, seedingUseCases, testStore } from '../support/use-case-kit';

const DAY = 86_400_000;

/**
 * The store with one method made to fail once — `after` its real write (a crash right after it) or
 * `before` it — the way a process dies between two steps of a batch.
 */
function crashingStore(store: BookingsStore, method: keyof BookingsStore, when: 'before' | 'after') {
  let armed = true;
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (prop !== method || typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        if (armed && when === 'before') {
          armed = false;
          throw new Error(`crash before ${String(method)}`);
        }
        const result = (await (value as (...a: unknown[]) => Promise<unknown>).apply(
          target,
          args,
        )) as unknown;
        if (armed) {
          armed = false;
          throw new Error(`crash after ${String(method)}`);
        }
        return result;
      };
    },
  });
}

/** A school's bookings in a comparable form (ids are random; people and effects are not). */
function snapshot(bookings: Booking[]) {
  return bookings
    .map((b) => ({
      who: `${b.eventId}/${b.pupilId}/${b.contactId}`,
      status: b.status,
      reason: b.cancellation?.reason,
      cancelledBy: b.cancellation?.roster
        ? `${b.cancellation.roster.personKind}:${b.cancellation.roster.personId}`
        : undefined,
      held: b.pendingCancellation?.causes.map((c) => `${c.personKind}:${c.personId}`),
      history: b.history.map((h) => h.action),
    }))
    .sort((a, b) => a.who.localeCompare(b.who));
}

// One store (real FerretDB) for the file; every test seeds schools of its own in it.
let store: BookingsStore;
let drop: (() => Promise<void>) | undefined;
beforeAll(async () => ({ store, drop } = await testStore('bookings-batches')));
afterAll(async () => drop?.());

const SLOT_MS = 600_000;

/** An open parents' evening with the given 10-minute slots back to back from its start, one seat each. */
async function openEvening(
  uc: ReturnType<typeof seedingUseCases>,
  tenant: string,
  e: {
    id: string;
    title: string;
    startsAt: Date;
    durationMs: number;
    slots: { id: string; staffId: string }[];
  },
) {
  await createOpenEvent(uc, tenant, {
    id: e.id,
    kind: 'parents_evening',
    title: e.title,
    startsAt: e.startsAt,
    durationMs: e.durationMs,
  });
  await uc.createSlots(
    tenant,
    e.id,
    e.slots.map((slot, i) => ({
      ...slot,
      startsAt: new Date(e.startsAt.getTime() + i * SLOT_MS),
      endsAt: new Date(e.startsAt.getTime() + (i + 1) * SLOT_MS),
      capacity: 1,
    })),
  );
}

/** A school with an open evening in 5 days (pupils p0…p<n-1>, contacts c<i>) and one live evening. */
async function seed(tenant: string, n: number) {
  const uc = seedingUseCases(store);
  await openEvening(uc, tenant, {
    id: 'open',
    title: 'Year 9',
    startsAt: new Date(Date.now() + 5 * DAY),
    durationMs: n * SLOT_MS,
    slots: Array.from({ length: n }, (_, i) => ({ id: `s${i}`, staffId: 't1' })),
  });
  for (let i = 0; i < n; i++)
    await uc.createBooking(tenant, { slotId: `s${i}`, pupilId: `p${i}`, contactId: `c${i}` });
  await openEvening(uc, tenant, {
    id: 'live',
    title: 'Tonight',
    startsAt: new Date(Date.now() + 2 * DAY),
    durationMs: 3_600_000,
    slots: [{ id: 'l0', staffId: 't2' }],
  });
  await uc.createBooking(tenant, { slotId: 'l0', pupilId: 'p0', contactId: 'c0' });
  await uc.updateEvent(tenant, 'live', { status: 'live' });
}

/** Every booking of the school, whatever its status. */
const all = async (tenant: string) => (await store.listBookings(tenant, {})).items;

describe('bookings removals applied a batch at a time: the same outcome as one at a time', () => {
  it('a batch has exactly the outcome of the same events applied one at a time', async () => {
    const one = uniqueName('school');
    const batch = uniqueName('school');
    await seed(one, 6);
    await seed(batch, 6);
    const t0 = Date.now() - 60_000;
    const at = (s: number) => ({ time: new Date(t0 + s * 1000) });
    const burst = (tenant: string): Array<CloudEvent<RosterChangeData>> => [
      rosterEvent(tenant, 'pupil', 'removed', 'p0', at(1)), // cancels open/p0, holds live/p0
      rosterEvent(tenant, 'contact', 'removed', 'c0', at(2)), // same bookings: nothing more to cancel; adds a hold cause
      // The live booking's teacher, approved: cancels the held booking (after both holds, as one by one).
      rosterEvent(tenant, 'staff', 'removed', 't2', {
        ...at(2),
        reason: 'approved_held_batch',
        heldBatchId: 'hb1',
      }),
      rosterEvent(tenant, 'pupil', 'removed', 'p1', at(3)),
      rosterEvent(tenant, 'pupil', 'removed', 'p2', at(4)),
      rosterEvent(tenant, 'pupil', 'restored', 'p2', { ...at(5), syncRunId: 'run-2' }), // reinstates p2
      rosterEvent(tenant, 'pupil', 'removed', 'p2', { ...at(6), syncRunId: 'run-3' }), // removed again
      rosterEvent(tenant, 'pupil', 'removed', 'p3', at(7)),
      rosterEvent(tenant, 'pupil', 'removed', 'p3', { ...at(0), syncRunId: 'run-0' }), // older: stale
      rosterEvent(tenant, 'pupil', 'removed', 'p1', at(3)), // a re-send of the same event: duplicate
    ];
    const p1 = flakyPublisher();
    const sequential = createRosterChangeHandler({ store, publisher: p1, logger });
    const oneByOne = [];
    for (const e of burst(one)) oneByOne.push(await sequential.handle(e));
    const p2 = flakyPublisher();
    const batched = createRosterChangeHandler({ store, publisher: p2, logger });
    const together = await batched.handleBatch(burst(batch));

    expect(together).toEqual(oneByOne);
    expect(together.map((o) => o.status)).toEqual([
      'applied',
      'applied',
      'applied',
      'applied',
      'applied',
      'applied',
      'applied',
      'applied',
      'stale',
      'duplicate',
    ]);
    expect(snapshot(await all(batch))).toEqual(snapshot(await all(one)));
    const kinds = (sent: CloudEvent[], bookings: Booking[]) => {
      const who = new Map(bookings.map((b) => [b.id, `${b.eventId}/${b.pupilId}`]));
      return sent.map(
        (e) => `${e.type.split('.').at(-2)} ${who.get((e.data as { bookingId: string }).bookingId)}`,
      );
    };
    expect(kinds(p2.sent, await all(batch))).toEqual(kinds(p1.sent, await all(one)));
    // The person states too: p2's, stored by its restore, is overwritten by its removal again.
    const people = [
      ...['p0', 'p1', 'p2', 'p3'].map((personId) => ({ kind: 'pupil' as const, personId })),
      { kind: 'contact' as const, personId: 'c0' },
      { kind: 'staff' as const, personId: 't2' },
    ];
    const states = async (tenant: string) =>
      [...(await store.personStatesOf(tenant, people)).entries()].map(([who, s]) => [who, s.state]).sort();
    expect(await states(batch)).toEqual(await states(one));
    expect(await states(batch)).toContainEqual(['pupil:p2', 'removed']);
    expect(snapshot(await all(batch)).find((b) => b.who === 'live/p0/c0')).toMatchObject({
      status: 'cancelled',
      reason: 'roster_removal_approved',
      cancelledBy: 'staff:t2',
      history: ['booked', 'cancellation_held', 'cancellation_held', 'cancelled'],
    });
  });
});

describe('bookings removals applied a batch at a time: a crash at any step of the batch', () => {
  const steps: Array<[keyof BookingsStore | 'publish', 'before' | 'after']> = [
    ['cancelBookings', 'after'],
    ['setPending', 'after'],
    ['publish', 'before'],
    ['putPersonStates', 'after'],
    ['markAllProcessed', 'before'],
  ];
  for (const [step, when] of steps) {
    it(`a crash ${when} ${step} re-runs the batch to the same state and re-publishes the same event ids`, async () => {
      const tenant = uniqueName('school');
      await seed(tenant, 5);
      const events = ['p0', 'p1', 'p2', 'p3', 'p4'].map((p) => rosterEvent(tenant, 'pupil', 'removed', p));
      const publisher = flakyPublisher();
      if (step === 'publish') publisher.failOnce();
      const first = createRosterChangeHandler({
        store: step === 'publish' ? store : crashingStore(store, step, when),
        publisher,
        logger,
      });
      await expect(first.handleBatch(events)).rejects.toThrow(step === 'publish' ? 'broker down' : 'crash');
      const sentBefore = publisher.sent.map((e) => e.id);

      // The restart: the same batch is delivered again to a fresh handler.
      const again = createRosterChangeHandler({ store, publisher, logger });
      const outcomes = await again.handleBatch(events);
      expect(outcomes.every((o) => o.status === 'applied')).toBe(true);
      const sentAfter = publisher.sent.slice(sentBefore.length);
      // Every outcome event is published by the successful run, with the ids of the failed one.
      expect(sentAfter).toHaveLength(6);
      expect(new Set([...sentBefore, ...sentAfter.map((e) => e.id)]).size).toBe(6);
      expect(sentAfter.filter((e) => e.type.endsWith('booking.cancelled.v1'))).toHaveLength(5);
      expect(sentAfter.filter((e) => e.type.endsWith('booking.cancellation-held.v1'))).toHaveLength(1);

      const bookings = await all(tenant);
      for (const b of bookings.filter((x) => x.eventId === 'open')) {
        expect(b.status).toBe('cancelled');
        expect(b.history.filter((x) => x.action === 'cancelled')).toHaveLength(1);
      }
      const live = bookings.find((b) => b.eventId === 'live')!;
      expect(live.status).toBe('booked');
      expect(live.pendingCancellation?.causes.map((c) => c.personId)).toEqual(['p0']);
      expect(live.history.filter((x) => x.action === 'cancellation_held')).toHaveLength(1);
      for (const e of events) expect(await store.isProcessed(tenant, e.id)).toBe(true);

      // A third delivery changes and publishes nothing.
      const count = publisher.sent.length;
      expect((await again.handleBatch(events)).map((o) => o.status)).toEqual(Array(5).fill('duplicate'));
      expect(publisher.sent).toHaveLength(count);
    });
  }
});

describe('bookings removals applied a batch at a time: a hold the batch also cancels', () => {
  // [p0 removed (absent_from_feed), t2 removed (approved)]: the live booking naming both is held by
  // p0's removal, then cancelled by t2's. The publish fails once and the batch is re-run: the re-run
  // sees the booking cancelled by t2 and must still publish p0's `cancellation-held` (same id).
  const batchOf = (tenant: string) => [
    rosterEvent(tenant, 'pupil', 'removed', 'p0'),
    rosterEvent(tenant, 'staff', 'removed', 't2', { reason: 'approved_held_batch', heldBatchId: 'hb1' }),
  ];
  const published = async (failOnce: boolean) => {
    const tenant = uniqueName('school');
    await seed(tenant, 1);
    const publisher = flakyPublisher();
    if (failOnce) publisher.failOnce();
    const handler = createRosterChangeHandler({ store, publisher, logger });
    if (failOnce) await expect(handler.handleBatch(batchOf(tenant))).rejects.toThrow('broker down');
    const again = createRosterChangeHandler({ store, publisher, logger });
    expect((await again.handleBatch(batchOf(tenant))).map((o) => o.status)).toEqual(['applied', 'applied']);
    const live = (await all(tenant)).find((b) => b.eventId === 'live')!;
    expect(live.history.map((h) => h.action)).toEqual(['booked', 'cancellation_held', 'cancelled']);
    // Ids are deterministic from (type, school, booking, roster event): the schools and bookings of
    // the two runs differ, so each id is checked against that derivation and labelled by it.
    const open = (await all(tenant)).find((b) => b.eventId === 'open')!;
    const booking = new Map([
      [open.id, 'open/p0'],
      [live.id, 'live/p0'],
    ]);
    const [p0, t2] = batchOf(tenant).map((e) => e.id);
    const cause = new Map([
      [p0!, 'pupil p0'],
      [t2!, 'staff t2'],
    ]);
    return publisher.sent.map((e) => {
      const data = e.data as { bookingId: string; roster: { rosterEventId: string } };
      expect(e.id).toBe(deterministicEventId(e.type, tenant, data.bookingId, data.roster.rosterEventId));
      return `${e.type.split('.').slice(-2).join('.')} ${booking.get(data.bookingId)} by ${cause.get(data.roster.rosterEventId)}`;
    });
  };

  it('a failed publish re-runs the batch to the same published events, the hold’s included', async () => {
    const clean = await published(false);
    expect(clean).toEqual([
      'cancelled.v1 open/p0 by pupil p0',
      'cancellation-held.v1 live/p0 by pupil p0',
      'cancelled.v1 live/p0 by staff t2',
    ]);
    expect(await published(true)).toEqual(clean);
  });
});
