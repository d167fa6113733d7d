import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudEvent, RosterChangeData } from '@isams-sync/events';
import { uniqueName } from '@isams-sync/testing';
import type { BookingsStore } from '../../src/use-cases/ports';
import type { PersonKind } from '../../src/domain/booking-model';
import { createRosterChangeHandler } from '../../src/use-cases/roster-change.use-case';
import { createBookingsUseCases } from '../../src/use-cases/bookings.use-cases';
import { logger, rosterEvent } from '../support/harness';
import { createOpenEvent, flakyPublisher, seedingUseCases, testStore } from '../support/use-case-kit';

const DAY = 86_400_000;
const SLOT_MS = 600_000;

// One store (real FerretDB) for the file; every test seeds a school of its own in it.
let store: BookingsStore;
let drop: (() => Promise<void>) | undefined;
beforeAll(async () => ({ store, drop } = await testStore('bookings-restore-order')));
afterAll(async () => drop?.());

/** An evening starting `startsAt` with one 10-minute appointment slot `s0` with teacher t1. */
async function evening(tenant: string, id: string, startsAt: Date, status: 'open' | 'live' = 'open') {
  const uc = seedingUseCases(store);
  await createOpenEvent(uc, tenant, {
    id,
    kind: 'parents_evening',
    title: id,
    startsAt,
    durationMs: SLOT_MS,
  });
  await uc.createSlots(tenant, id, [
    { id: `${id}-s0`, staffId: 't1', capacity: 1, startsAt, endsAt: new Date(startsAt.getTime() + SLOT_MS) },
  ]);
  if (status === 'live') await uc.updateEvent(tenant, id, { status: 'live' });
  return uc;
}

/** A booking of pupil p1 and contact c1 with teacher t1, in an evening nine days ahead, and a handler over a publisher. */
async function familyBooking(tenant: string) {
  const uc = await evening(tenant, 'ev', new Date(Date.now() + 9 * DAY));
  const b = await uc.createBooking(tenant, { slotId: 'ev-s0', pupilId: 'p1', contactId: 'c1' });
  const publisher = flakyPublisher();
  const handler = createRosterChangeHandler({ store, publisher, logger });
  return { uc, b, publisher, handler };
}

const typeOf = (e: CloudEvent) => e.type.split('.').slice(-2, -1)[0];
const people = (...p: Array<[PersonKind, string]>) => p.map(([kind, personId]) => ({ kind, personId }));

describe('restoring a family removed together: the outcome does not depend on the order of the restores', () => {
  const cases: Array<{
    name: string;
    removed: Array<[PersonKind, string]>;
    restoreOrder: Array<[PersonKind, string]>;
  }> = [
    {
      name: 'pupil then contact (the roster’s order)',
      removed: [
        ['pupil', 'p1'],
        ['contact', 'c1'],
      ],
      restoreOrder: [
        ['pupil', 'p1'],
        ['contact', 'c1'],
      ],
    },
    {
      name: 'contact then pupil',
      removed: [
        ['pupil', 'p1'],
        ['contact', 'c1'],
      ],
      restoreOrder: [
        ['contact', 'c1'],
        ['pupil', 'p1'],
      ],
    },
    {
      name: 'teacher then pupil (the roster’s order)',
      removed: [
        ['staff', 't1'],
        ['pupil', 'p1'],
      ],
      restoreOrder: [
        ['staff', 't1'],
        ['pupil', 'p1'],
      ],
    },
    {
      name: 'pupil then teacher',
      removed: [
        ['staff', 't1'],
        ['pupil', 'p1'],
      ],
      restoreOrder: [
        ['pupil', 'p1'],
        ['staff', 't1'],
      ],
    },
  ];
  for (const c of cases) {
    for (const mode of ['one by one', 'in one batch'] as const) {
      it(`reinstates the booking once both are back, as previewed: restored ${c.name}, ${mode}`, async () => {
        const tenant = uniqueName('school');
        const { b, publisher, handler } = await familyBooking(tenant);
        const t0 = Date.now();
        await handler.handleBatch(
          c.removed.map(([kind, id]) =>
            rosterEvent(tenant, kind, 'removed', id, { syncRunId: 'r2', time: new Date(t0) }),
          ),
        );
        expect((await store.getBooking(tenant, b.id))?.status).toBe('cancelled');
        const report = createBookingsUseCases({
          store,
          publisher,
          roster: { personExists: () => Promise.resolve(true) },
        });
        const restoring = people(...c.removed);
        const preview = await report.runReinstatementReport(tenant, 'r2', restoring);
        expect(preview.map((l) => [l.booking.id, l.outcome])).toEqual([[b.id, 'can_reinstate']]);

        const restores: Array<CloudEvent<RosterChangeData>> = c.restoreOrder.map(([kind, id]) =>
          rosterEvent(tenant, kind, 'restored', id, { syncRunId: 'r2', time: new Date(t0 + 60_000) }),
        );
        if (mode === 'in one batch') await handler.handleBatch(restores);
        else for (const r of restores) await handler.handle(r);

        const after = await store.getBooking(tenant, b.id);
        expect(after).toMatchObject({ status: 'booked', seat: 0 });
        expect((await report.runReinstatementReport(tenant, 'r2', restoring)).map((l) => l.outcome)).toEqual([
          'reinstated',
        ]);
        const reinstated = publisher.sent.filter((e) => typeOf(e) === 'reinstated');
        expect(reinstated.map((e) => (e.data as { bookingId: string }).bookingId)).toEqual([b.id]);
      });
    }
  }
});

describe('restoring a family removed together: re-runs, and a third person still removed', () => {
  it('a restore re-run after a crash before its record re-publishes the same reinstated event', async () => {
    const tenant = uniqueName('school');
    const { b, publisher, handler } = await familyBooking(tenant);
    const t0 = Date.now();
    await handler.handleBatch([
      rosterEvent(tenant, 'pupil', 'removed', 'p1', { syncRunId: 'r2', time: new Date(t0) }),
      rosterEvent(tenant, 'contact', 'removed', 'c1', { syncRunId: 'r2', time: new Date(t0) }),
    ]);
    await handler.handle(
      rosterEvent(tenant, 'pupil', 'restored', 'p1', { syncRunId: 'r2', time: new Date(t0 + 1000) }),
    );
    const contactBack = rosterEvent(tenant, 'contact', 'restored', 'c1', {
      syncRunId: 'r2',
      time: new Date(t0 + 1000),
    });
    publisher.failOnce();
    await expect(handler.handle(contactBack)).rejects.toThrow('broker down');
    expect((await store.getBooking(tenant, b.id))?.status).toBe('booked');
    expect(await handler.handle(contactBack)).toMatchObject({ status: 'applied', reinstated: 0 });
    const reinstated = publisher.sent.filter((e) => typeOf(e) === 'reinstated');
    expect(reinstated).toHaveLength(1);
    expect(reinstated[0]!.data).toMatchObject({ bookingId: b.id, roster: { personKind: 'contact' } });
    expect(await handler.handle(contactBack)).toMatchObject({ status: 'duplicate' });
    expect((await store.getBooking(tenant, b.id))?.history.map((h) => h.action)).toEqual([
      'booked',
      'cancelled',
      'not_reinstated',
      'reinstated',
    ]);
  });

  it('stays cancelled (nothing published by the second restore) while a third person it names is still removed', async () => {
    const tenant = uniqueName('school');
    const { b, handler } = await familyBooking(tenant);
    const t0 = Date.now();
    await handler.handleBatch(
      (['staff', 'pupil', 'contact'] as const).map((kind) =>
        rosterEvent(tenant, kind, 'removed', { staff: 't1', pupil: 'p1', contact: 'c1' }[kind], {
          syncRunId: 'r2',
          time: new Date(t0),
        }),
      ),
    );
    const back = (kind: PersonKind, id: string) =>
      handler.handle(
        rosterEvent(tenant, kind, 'restored', id, { syncRunId: 'r2', time: new Date(t0 + 1000) }),
      );
    expect(await back('pupil', 'p1')).toMatchObject({ notReinstated: 0 }); // cancelled by the teacher: not p1's
    expect(await back('staff', 't1')).toMatchObject({ notReinstated: 1 }); // c1 still removed
    expect((await store.getBooking(tenant, b.id))?.reinstatement?.outcome).toBe('other_person_removed');
    expect(await back('contact', 'c1')).toMatchObject({ reinstated: 1 });
    expect((await store.getBooking(tenant, b.id))?.status).toBe('booked');
  });
});

describe('evenings that have ended (finished, or their day has passed) keep their bookings as they are', () => {
  it('a removal neither cancels nor holds a booking of an ended evening; a restore reinstates none into one', async () => {
    const tenant = uniqueName('school');
    await evening(tenant, 'lastweek', new Date(Date.now() - 7 * DAY), 'live');
    const uc = await evening(tenant, 'lastmonth', new Date(Date.now() - 30 * DAY));
    await evening(tenant, 'next', new Date(Date.now() + 9 * DAY));
    const lastweek = await uc.createBooking(tenant, {
      slotId: 'lastweek-s0',
      pupilId: 'p1',
      contactId: 'c1',
    });
    const lastmonth = await uc.createBooking(tenant, {
      slotId: 'lastmonth-s0',
      pupilId: 'p1',
      contactId: 'c1',
    });
    const next = await uc.createBooking(tenant, { slotId: 'next-s0', pupilId: 'p1', contactId: 'c1' });
    const publisher = flakyPublisher();
    const handler = createRosterChangeHandler({ store, publisher, logger });
    const t0 = Date.now();
    const report = createBookingsUseCases({
      store,
      publisher,
      roster: { personExists: () => Promise.resolve(true) },
    });
    const impact = await report.previewRemovalImpact(tenant, people(['pupil', 'p1']), 'absent_from_feed');
    expect(impact.events.map((e) => [e.event.id, e.cancel.length, e.hold.length])).toEqual([['next', 1, 0]]);

    expect(
      await handler.handle(
        rosterEvent(tenant, 'pupil', 'removed', 'p1', { syncRunId: 'r9', time: new Date(t0) }),
      ),
    ).toMatchObject({
      cancelled: 1,
      held: 0,
    });
    for (const id of [lastweek.id, lastmonth.id])
      expect(await store.getBooking(tenant, id)).toMatchObject({
        status: 'booked',
        history: [{ action: 'booked' }],
      });
    expect((await store.getBooking(tenant, next.id))?.status).toBe('cancelled');
    expect(publisher.sent.map((e) => (e.data as { bookingId: string }).bookingId)).toEqual([next.id]);
  });

  it('a booking cancelled before its evening ended is not reinstated into it: event_finished, as previewed', async () => {
    const tenant = uniqueName('school');
    const start = Date.now() + 2 * DAY;
    let clock = Date.now();
    const now = () => new Date(clock);
    const uc = await evening(tenant, 'ev', new Date(start));
    const b = await uc.createBooking(tenant, { slotId: 'ev-s0', pupilId: 'p1', contactId: 'c1' });
    const publisher = flakyPublisher();
    const handler = createRosterChangeHandler({ store, publisher, logger, now });
    await handler.handle(
      rosterEvent(tenant, 'pupil', 'removed', 'p1', {
        syncRunId: 'r9',
        time: new Date(clock),
        graceUntil: new Date(clock + 14 * DAY),
      }),
    );
    expect((await store.getBooking(tenant, b.id))?.status).toBe('cancelled');
    clock = start + 3 * DAY; // the evening's day has passed; nobody set it to finished
    const report = createBookingsUseCases({
      store,
      publisher,
      roster: { personExists: () => Promise.resolve(true) },
      now,
    });
    expect(
      (await report.runReinstatementReport(tenant, 'r9', people(['pupil', 'p1']))).map((l) => l.outcome),
    ).toEqual(['event_finished']);
    expect(
      await handler.handle(
        rosterEvent(tenant, 'pupil', 'restored', 'p1', { syncRunId: 'r10', time: new Date(clock) }),
      ),
    ).toMatchObject({ reinstated: 0, notReinstated: 1 });
    expect(await store.getBooking(tenant, b.id)).toMatchObject({
      status: 'cancelled',
      reinstatement: { outcome: 'event_finished' },
    });
    expect(
      (await report.runReinstatementReport(tenant, 'r9', people(['pupil', 'p1']))).map((l) => l.outcome),
    ).toEqual(['event_finished']);
  });
});
