import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '@isams-sync/testing';
import type { BookingsStore } from '../../src/use-cases/ports';
import { createRosterChangeHandler } from '../../src/use-cases/roster-change.use-case';
import { logger, rosterEvent } from '../support/harness';
import { createOpenEvent, flakyPublisher, seedingUseCases, testStore } from '../support/use-case-kit';

describe('re-running a roster change after a failure (real FerretDB)', () => {
  let store: BookingsStore;
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => ({ store, drop } = await testStore('bookings-rerun')));
  afterAll(async () => drop?.());

  async function seed(tenant: string) {
    const uc = seedingUseCases(store);
    const start = new Date(Date.now() + 5 * 86_400_000);
    await createOpenEvent(uc, tenant, {
      id: 'ev',
      kind: 'club',
      title: 'Chess',
      startsAt: start,
      durationMs: 3_600_000,
    });
    await uc.createSlots(tenant, 'ev', [
      { id: 's1', startsAt: start, endsAt: new Date(start.getTime() + 600_000), capacity: 1, staffId: 't1' },
    ]);
    return uc.createBooking(tenant, { slotId: 's1', pupilId: 'p1', contactId: 'c1' });
  }

  it('a removal whose publish failed re-runs to the same state and re-publishes the same event id', async () => {
    const tenant = uniqueName('school');
    const booking = await seed(tenant);
    const publisher = flakyPublisher(1);
    const handler = createRosterChangeHandler({ store, publisher, logger });
    const removal = rosterEvent(tenant, 'pupil', 'removed', 'p1');

    await expect(handler.handle(removal)).rejects.toThrow('broker down');
    expect((await store.getBooking(tenant, booking.id))?.status).toBe('cancelled');
    expect(await store.isProcessed(tenant, removal.id)).toBe(false);

    const again = await handler.handle(removal);
    expect(again).toMatchObject({ status: 'applied', cancelled: 0 });
    expect(publisher.sent.map((e) => e.type)).toEqual([
      'com.schoolcloud.isams-sync.bookings.booking.cancelled.v1',
    ]);
    expect(await store.isProcessed(tenant, removal.id)).toBe(true);
    expect(
      (await store.getBooking(tenant, booking.id))?.history.filter((x) => x.action === 'cancelled'),
    ).toHaveLength(1);

    // Third delivery: a duplicate, nothing at all happens.
    expect((await handler.handle(removal)).status).toBe('duplicate');
    expect(publisher.sent).toHaveLength(1);
  });

  it('a restore whose publish failed re-runs without reinstating twice and re-publishes the same event id', async () => {
    const tenant = uniqueName('school');
    const booking = await seed(tenant);
    const ok = createRosterChangeHandler({ store, publisher: flakyPublisher(0), logger });
    await ok.handle(rosterEvent(tenant, 'pupil', 'removed', 'p1', { time: new Date(Date.now() - 1_000) }));
    const publisher = flakyPublisher(1);
    const handler = createRosterChangeHandler({ store, publisher, logger });
    const restore = rosterEvent(tenant, 'pupil', 'restored', 'p1', { syncRunId: 'run-2' });
    await expect(handler.handle(restore)).rejects.toThrow('broker down');
    expect((await store.getBooking(tenant, booking.id))?.status).toBe('booked');
    await handler.handle(restore);
    expect(publisher.sent.map((e) => e.type)).toEqual([
      'com.schoolcloud.isams-sync.bookings.booking.reinstated.v1',
    ]);
    expect((await store.getBooking(tenant, booking.id))?.history.map((x) => x.action)).toEqual([
      'booked',
      'cancelled',
      'reinstated',
    ]);
  });
});
