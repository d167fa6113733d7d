import { describe, expect, it, vi } from 'vitest';
import type { MockInstance } from 'vitest';
import type { CloudEvent } from '@isams-sync/events';
import { createKafkaClient, groupOffsets, listDeadLetters, topicOffsets } from '@isams-sync/kafka';
import { eventually, getTestInfra, uniqueName } from '@isams-sync/testing';
import type { BookingsStore } from '../../src/use-cases/ports';
import { book, getBooking, makeEvent } from '../support/fixtures';
import { logger, rosterEvent, useHarness } from '../support/harness';

const CANCELLED = 'com.schoolcloud.isams-sync.bookings.booking.cancelled.v1';

/**
 * Spies on the store's lookups of the bookings naming removed people: the per-person one and the
 * per-batch one (where the store has it). Returns the tenants each lookup was made for.
 */
function spyOnBookingLookups(store: BookingsStore): { tenants: () => string[]; restore: () => void } {
  const spies: MockInstance[] = [];
  for (const name of ['bookingsOfPerson', 'bookingsNamingAny'] as const)
    if (typeof (store as unknown as Record<string, unknown>)[name] === 'function')
      spies.push(vi.spyOn(store, name as 'bookingsOfPerson'));
  return {
    tenants: () => spies.flatMap((s) => s.mock.calls.map((c) => c[0] as string)),
    restore: () => spies.forEach((s) => s.mockRestore()),
  };
}

describe('bookings: a burst of removals is consumed in batches (real Kafka + FerretDB)', () => {
  const h = useHarness();

  const cancelledOf = (tenant: string) =>
    h.published.filter((e) => e.tenantid === tenant && e.type === CANCELLED);

  it('two schools, one burst: exactly the right cancellations, one bookings lookup per school and batch', async () => {
    const a = uniqueName('school-a');
    const b = uniqueName('school-b');
    const n = 20;
    const evA = await makeEvent(h, a, { id: 'ev', daysAhead: 9, slotCount: n + 1 });
    const evB = await makeEvent(h, b, { id: 'ev', daysAhead: 9, slotCount: n });
    const bookingsA = [];
    const bookingsB = [];
    for (let i = 0; i < n; i++) {
      bookingsA.push(await book(h, a, evA.slots[i]!.id, 't1', `p${i}`, `c${i}`));
      // School B's pupils have the same ids as school A's: only B's own removals may touch them.
      bookingsB.push(await book(h, b, evB.slots[i]!.id, 't1', `p${i}`, `c${i}`));
    }
    const keepA = await book(h, a, evA.slots[n]!.id, 't1', 'p-stays', 'c-stays');

    // School A: every pupil leaves, and so does p0's contact (one booking, two removals);
    // school B: its first 8 pupils. Interleaved in one publish, as one partition carries both.
    const removalsA = [
      ...Array.from({ length: n }, (_, i) => rosterEvent(a, 'pupil', 'removed', `p${i}`)),
      rosterEvent(a, 'contact', 'removed', 'c0'),
    ];
    const removalsB = Array.from({ length: 8 }, (_, i) => rosterEvent(b, 'pupil', 'removed', `p${i}`));
    const burst: CloudEvent[] = [];
    for (let i = 0; i < removalsA.length; i++) {
      burst.push(removalsA[i]!);
      if (removalsB[i]) burst.push(removalsB[i]!);
    }

    const lookups = spyOnBookingLookups(h.app.store);
    try {
      await h.sendRoster(burst);
      await eventually(
        () => cancelledOf(a).length >= n && cancelledOf(b).length >= 8,
        'booking.cancelled events',
      );

      // Not one lookup per removal (29 events): one per school and batch. The burst is one produce
      // request, so Kafka hands it over in one or two fetches.
      const tenants = lookups.tenants();
      expect(tenants.length).toBeLessThanOrEqual(4);
      expect(new Set(tenants)).toEqual(new Set([a, b]));
    } finally {
      lookups.restore();
    }

    for (const [i, booking] of bookingsA.entries()) {
      const now = await getBooking(h, a, booking.id);
      expect(now.status).toBe('cancelled');
      expect(now.history.filter((x) => x.action === 'cancelled')).toHaveLength(1);
      // p0's booking: cancelled by the first removal naming it (the pupil's), once.
      expect(now.cancellation?.rosterEventId).toBe(removalsA[i]!.id);
    }
    expect((await getBooking(h, a, keepA.id)).status).toBe('booked');
    for (const [i, booking] of bookingsB.entries())
      expect((await getBooking(h, b, booking.id)).status).toBe(i < 8 ? 'cancelled' : 'booked');

    // One booking.cancelled per cancelled booking, none for another school's or a kept booking.
    const ids = (tenant: string) =>
      cancelledOf(tenant).map((e) => (e.data as { bookingId: string }).bookingId);
    expect(new Set(ids(a))).toEqual(new Set(bookingsA.map((x) => x.id)));
    expect(new Set(ids(b))).toEqual(new Set(bookingsB.slice(0, 8).map((x) => x.id)));
    expect(new Set(cancelledOf(a).map((e) => e.id)).size).toBe(n);
    for (const e of burst) expect(await h.app.store.isProcessed(e.tenantid, e.id)).toBe(true);
  }, 180_000);

  it('a poison message inside a batch is dead-lettered alone; the others are applied and committed', async () => {
    const tenant = uniqueName('school');
    const ev = await makeEvent(h, tenant, { id: 'ev', daysAhead: 11, slotCount: 12 });
    const booked = [];
    for (let i = 0; i < 12; i++) booked.push(await book(h, tenant, ev.slots[i]!.id, 't1', `p${i}`, `c${i}`));
    const good = booked.map((_, i) => rosterEvent(tenant, 'pupil', 'removed', `p${i}`));
    const bad = {
      ...rosterEvent(tenant, 'pupil', 'removed', 'p-bad'),
      id: uniqueName('bad'),
      data: { entityType: 'pupil', change: 'removed' },
    } as CloudEvent;
    const client = createKafkaClient({
      brokers: getTestInfra().kafkaBrokers,
      clientId: 'batch-poison',
      logger,
    });

    await h.publishRoster([...good.slice(0, 6), bad, ...good.slice(6)]);
    for (const e of good)
      await eventually(() => h.app.store.isProcessed(tenant, e.id), `removal ${e.id} processed`);
    for (const b of booked) expect((await getBooking(h, tenant, b.id)).status).toBe('cancelled');
    expect(await h.app.store.isProcessed(tenant, bad.id)).toBe(false);

    // Dead-lettered once, at its first attempt; the group's offset passes it (nothing blocked).
    const letters = await eventually(async () => {
      const all = await listDeadLetters(client, `${h.rosterTopic}.dlq`, { group: h.rosterGroupId });
      return all.length > 0 ? all : undefined;
    }, 'the dead letter');
    expect(letters.map((l) => [l.eventId, l.attempts])).toEqual([[bad.id, '1']]);
    await eventually(async () => {
      const [end] = await topicOffsets(client, h.rosterTopic);
      return (await groupOffsets(client, h.rosterGroupId, h.rosterTopic))[0] === end!.high;
    }, 'the batch committed');
    expect(new Set(cancelledOf(tenant).map((e) => e.id)).size).toBe(12);
  }, 180_000);
});
