import { describe, expect, it } from 'vitest';
import type { bookingsV1 } from '@isams-sync/grpc';
import type { CloudEvent } from '@isams-sync/events';
import { createKafkaClient, listDeadLetters } from '@isams-sync/kafka';
import { eventually, getTestInfra, uniqueName } from '@isams-sync/testing';
import { book, getBooking, makeEvent } from '../support/fixtures';
import { logger, rosterEvent, useHarness, watchTopic } from '../support/harness';

const CANCELLED = 'com.schoolcloud.isams-sync.bookings.booking.cancelled.v1';
const REINSTATED = 'com.schoolcloud.isams-sync.bookings.booking.reinstated.v1';
const NOT_REINSTATED = 'com.schoolcloud.isams-sync.bookings.booking.not-reinstated.v1';
const HELD = 'com.schoolcloud.isams-sync.bookings.booking.cancellation-held.v1';

// One bookings service (real Kafka + FerretDB) for every describe below, started once for the file;
// each test has a school of its own.
const h = useHarness();

/** The booking events of `type` the service published for `tenant` so far. */
const eventsOf = (tenant: string, type: string) =>
  h.published.filter((e) => e.tenantid === tenant && e.type === type);

describe('roster changes → bookings: whose bookings a removal cancels', () => {
  it('cancels a removed pupil’s bookings in unfinished events, keeps finished events, and publishes booking.cancelled', async () => {
    const tenant = uniqueName('school');
    const future = await makeEvent(h, tenant, { id: 'future', daysAhead: 7 });
    const later = await makeEvent(h, tenant, { id: 'later', daysAhead: 9 });
    const past = await makeEvent(h, tenant, { id: 'past', daysAhead: 8 });
    const b1 = await book(h, tenant, future.slots[0]!.id, 't1', 'p1', 'c1');
    const b2 = await book(h, tenant, later.slots[0]!.id, 't2', 'p1', 'c1');
    const keep = await book(h, tenant, future.slots[1]!.id, 't1', 'p2', 'c2');
    const hist = await book(h, tenant, past.slots[0]!.id, 't3', 'p1', 'c1');
    await h.call('UpdateEvent', { eventId: 'past', status: 'live' }, tenant);
    await h.call('UpdateEvent', { eventId: 'past', status: 'finished' }, tenant);

    const removal = rosterEvent(tenant, 'pupil', 'removed', 'p1');
    await h.sendRoster([removal]);

    for (const id of [b1.id, b2.id]) {
      expect(await getBooking(h, tenant, id)).toMatchObject({
        status: 'cancelled',
        cancellation: {
          reason: 'roster_removal',
          rosterEventId: removal.id,
          personKind: 'pupil',
          personId: 'p1',
        },
      });
    }
    expect((await getBooking(h, tenant, keep.id)).status).toBe('booked');
    expect((await getBooking(h, tenant, hist.id)).status).toBe('booked');
    const published = await eventually(
      () => eventsOf(tenant, CANCELLED).length === 2 && eventsOf(tenant, CANCELLED),
      'two booking.cancelled',
    );
    expect(published.map((e) => (e.data as { bookingId: string }).bookingId).sort()).toEqual(
      [b1.id, b2.id].sort(),
    );
    expect(published[0]!.data).toMatchObject({
      reason: 'roster_removal',
      roster: { rosterEventId: removal.id, personKind: 'pupil', personId: 'p1', syncRunId: 'run-1' },
    });
  });

  it('cancels a removed teacher’s bookings and a removed contact’s bookings (only those the contact made)', async () => {
    const tenant = uniqueName('school');
    const ev = await makeEvent(h, tenant, { id: 'ev', daysAhead: 10 });
    const t1a = await book(h, tenant, ev.slots[0]!.id, 't1', 'p1', 'c1');
    const t1b = await book(h, tenant, ev.slots[1]!.id, 't1', 'p2', 'c2');
    const t2 = await book(h, tenant, ev.slots[2]!.id, 't2', 'p3', 'c3');
    const c3other = await book(h, tenant, ev.slots[3]!.id, 't3', 'p3', 'c4');

    await h.sendRoster([rosterEvent(tenant, 'staff', 'removed', 't1')]);
    expect((await getBooking(h, tenant, t1a.id)).status).toBe('cancelled');
    expect((await getBooking(h, tenant, t1b.id)).status).toBe('cancelled');
    expect((await getBooking(h, tenant, t2.id)).status).toBe('booked');

    await h.sendRoster([rosterEvent(tenant, 'contact', 'removed', 'c3')]);
    expect(await getBooking(h, tenant, t2.id)).toMatchObject({
      status: 'cancelled',
      cancellation: { personKind: 'contact', personId: 'c3' },
    });
    expect((await getBooking(h, tenant, c3other.id)).status).toBe('booked');
    await eventually(() => eventsOf(tenant, CANCELLED).length === 3, 'three booking.cancelled');
  });
});

describe('roster changes → bookings: duplicates, replays and restores', () => {
  it('changes nothing extra on duplicates, replays and out-of-order events', async () => {
    const tenant = uniqueName('school');
    const ev = await makeEvent(h, tenant, { id: 'ev', daysAhead: 11 });
    const b = await book(h, tenant, ev.slots[0]!.id, 't1', 'p1', 'c1');
    const removedAt = new Date(Date.now() - 60_000);
    const removal = rosterEvent(tenant, 'pupil', 'removed', 'p1', { time: removedAt, syncRunId: 'run-7' });
    await h.sendRoster([removal, removal]); // a producer re-send (same id)
    await h.sendRoster([removal]); // a later replay
    await eventually(() => eventsOf(tenant, CANCELLED).length >= 1, 'booking.cancelled');
    const after = await getBooking(h, tenant, b.id);
    expect(after.history.filter((x) => x.action === 'cancelled')).toHaveLength(1);

    // Restored later, then the old removal arrives again under a new id (e.g. re-published by an
    // older run): it is older than the applied restore, so nothing is cancelled again.
    const restore = rosterEvent(tenant, 'pupil', 'restored', 'p1', {
      time: new Date(removedAt.getTime() + 30_000),
      syncRunId: 'run-8',
    });
    await h.sendRoster([restore]);
    expect((await getBooking(h, tenant, b.id)).status).toBe('booked');
    const stale = rosterEvent(tenant, 'pupil', 'removed', 'p1', {
      time: removedAt,
      syncRunId: 'run-7-replayed',
    });
    await h.sendRoster([stale]);
    const final = await getBooking(h, tenant, b.id);
    expect(final.status).toBe('booked');
    expect(final.history.map((x) => x.action)).toEqual(['booked', 'cancelled', 'reinstated']);
    // Let the watcher catch up, then count: exactly one cancellation and one reinstatement were published.
    await eventually(() => eventsOf(tenant, REINSTATED).length === 1, 'booking.reinstated');
    const ids = new Set(eventsOf(tenant, CANCELLED).map((e) => e.id));
    expect(ids.size).toBe(1);
  });

  it('reinstates on restore within the grace period when the slot is free; records why not otherwise', async () => {
    const tenant = uniqueName('school');
    const ev = await makeEvent(h, tenant, { id: 'ev', daysAhead: 12 });
    const free = await book(h, tenant, ev.slots[0]!.id, 't1', 'p1', 'c1');
    const taken = await book(h, tenant, ev.slots[1]!.id, 't2', 'p1', 'c1');
    const expired = await book(h, tenant, ev.slots[2]!.id, 't3', 'p9', 'c9');
    await h.sendRoster([
      rosterEvent(tenant, 'pupil', 'removed', 'p1', { time: new Date(Date.now() - 5_000) }),
      rosterEvent(tenant, 'pupil', 'removed', 'p9', {
        time: new Date(Date.now() - 5_000),
        graceUntil: new Date(Date.now() - 1_000),
      }),
    ]);
    // Someone else takes the second slot meanwhile.
    const newcomer = await book(h, tenant, ev.slots[1]!.id, 't2', 'p5', 'c5');
    const restores = [
      rosterEvent(tenant, 'pupil', 'restored', 'p1', { syncRunId: 'run-2' }),
      rosterEvent(tenant, 'pupil', 'restored', 'p9', { syncRunId: 'run-2' }),
    ];
    await h.sendRoster(restores);

    expect(await getBooking(h, tenant, free.id)).toMatchObject({
      status: 'booked',
      reinstatementOutcome: 'reinstated',
    });
    expect(await getBooking(h, tenant, taken.id)).toMatchObject({
      status: 'cancelled',
      reinstatementOutcome: 'slot_taken',
    });
    expect(await getBooking(h, tenant, expired.id)).toMatchObject({
      status: 'cancelled',
      reinstatementOutcome: 'grace_expired',
    });
    expect((await getBooking(h, tenant, newcomer.id)).status).toBe('booked');
    const re = await eventually(
      () => eventsOf(tenant, REINSTATED).length === 1 && eventsOf(tenant, REINSTATED),
      'booking.reinstated',
    );
    expect(re[0]!.data).toMatchObject({ bookingId: free.id, roster: { rosterEventId: restores[0]!.id } });
    const not = await eventually(
      () => eventsOf(tenant, NOT_REINSTATED).length === 2 && eventsOf(tenant, NOT_REINSTATED),
      'two not-reinstated',
    );
    expect(not.map((e) => (e.data as { reason: string }).reason).sort()).toEqual([
      'grace_expired',
      'slot_taken',
    ]);
  });
});

describe('roster changes → bookings: removals during a live event', () => {
  it('holds removals in live events as pending; an approved held batch cancels them; finishing the event cancels the rest', async () => {
    const tenant = uniqueName('school');
    const live = await makeEvent(h, tenant, { id: 'live', daysAhead: 13, status: 'live' });
    const a = await book(h, tenant, live.slots[0]!.id, 't1', 'p1', 'c1');
    const b = await book(h, tenant, live.slots[1]!.id, 't1', 'p2', 'c2');
    const c = await book(h, tenant, live.slots[2]!.id, 't1', 'p3', 'c3');

    await h.sendRoster([
      rosterEvent(tenant, 'pupil', 'removed', 'p1'),
      rosterEvent(tenant, 'pupil', 'removed', 'p2'),
      rosterEvent(tenant, 'pupil', 'removed', 'p3'),
    ]);
    for (const x of [a, b, c])
      expect(await getBooking(h, tenant, x.id)).toMatchObject({
        status: 'booked',
        pendingCancellation: true,
      });
    await eventually(() => eventsOf(tenant, HELD).length === 3, 'three cancellation-held');
    expect(eventsOf(tenant, CANCELLED)).toHaveLength(0);

    // p1 comes back: the hold is released.
    await h.sendRoster([rosterEvent(tenant, 'pupil', 'restored', 'p1', { syncRunId: 'run-2' })]);
    expect(await getBooking(h, tenant, a.id)).toMatchObject({ status: 'booked', pendingCancellation: false });

    // p2's removal arrives again through an approved held batch (a later run): cancelled at once.
    await h.sendRoster([
      rosterEvent(tenant, 'pupil', 'removed', 'p2', {
        syncRunId: 'run-3',
        reason: 'approved_held_batch',
        heldBatchId: 'hb-1',
      }),
    ]);
    expect(await getBooking(h, tenant, b.id)).toMatchObject({
      status: 'cancelled',
      cancellation: { reason: 'roster_removal_approved' },
    });

    // The evening finishes: p3's pending cancellation takes effect; p1's restored booking stays.
    await h.call('UpdateEvent', { eventId: 'live', status: 'finished' }, tenant);
    expect(await getBooking(h, tenant, c.id)).toMatchObject({
      status: 'cancelled',
      cancellation: { reason: 'roster_removal_event_finished' },
    });
    expect((await getBooking(h, tenant, a.id)).status).toBe('booked');
    await eventually(() => eventsOf(tenant, CANCELLED).length === 2, 'two booking.cancelled');
  });
});

describe('roster changes → bookings: a roster event with invalid data', () => {
  it('dead-letters a roster event with invalid data and keeps going', async () => {
    const tenant = uniqueName('school');
    const ev = await makeEvent(h, tenant, { id: 'ev', daysAhead: 17 });
    const b = await book(h, tenant, ev.slots[0]!.id, 't1', 'p1', 'c1');
    const good = rosterEvent(tenant, 'pupil', 'removed', 'p1');
    const bad = {
      ...rosterEvent(tenant, 'pupil', 'removed', 'p2'),
      id: 'bad-1',
      data: { entityType: 'pupil', change: 'removed' },
    };
    const dead: string[] = [];
    const dlqClient = createKafkaClient({
      brokers: getTestInfra().kafkaBrokers,
      clientId: 'dlq-watch',
      logger,
    });
    const dlq = watchTopic(dlqClient, `${h.rosterTopic}.dlq`, 'dlq-watch', (e) => dead.push(e.id));
    try {
      await dlq.ready;
      await h.publishRoster([bad as CloudEvent]);
      await h.sendRoster([good]);
      expect((await getBooking(h, tenant, b.id)).status).toBe('cancelled');
      await eventually(() => dead.includes('bad-1'), 'dead letter');
      expect(await h.app.store.isProcessed(tenant, 'bad-1')).toBe(false);
      // At once: invalid data is never retried.
      const letters = await listDeadLetters(dlqClient, `${h.rosterTopic}.dlq`, { group: h.rosterGroupId });
      expect(letters.filter((l) => l.eventId === 'bad-1').map((l) => l.attempts)).toEqual(['1']);
    } finally {
      await dlq.stop();
    }
  });
});

describe('roster changes → bookings: the removal impact preview', () => {
  it('cancels exactly what PreviewRemovalImpact showed (held batch and plain removals)', async () => {
    const tenant = uniqueName('school');
    const ev1 = await makeEvent(h, tenant, { id: 'ev1', daysAhead: 14, title: 'Year 7' });
    const ev2 = await makeEvent(h, tenant, { id: 'ev2', daysAhead: 15, title: 'Year 8' });
    const live = await makeEvent(h, tenant, { id: 'live', daysAhead: 16, status: 'live' });
    await book(h, tenant, ev1.slots[0]!.id, 't1', 'p1', 'c1');
    await book(h, tenant, ev1.slots[1]!.id, 't1', 'p2', 'c2');
    await book(h, tenant, ev2.slots[0]!.id, 't2', 'p1', 'c1');
    await book(h, tenant, ev2.slots[1]!.id, 't2', 'p3', 'c3');
    await book(h, tenant, live.slots[0]!.id, 't1', 'p4', 'c4');
    await book(h, tenant, live.slots[1]!.id, 't3', 'p5', 'c5');
    const removals = [
      { kind: 'staff', id: 't1' },
      { kind: 'pupil', id: 'p1' },
      { kind: 'contact', id: 'c5' },
    ] as const;

    const dry = (await h.call(
      'PreviewRemovalImpact',
      { removals, dryRunId: 'dry-1' },
      tenant,
    )) as bookingsV1.PreviewRemovalImpactResponse__Output;
    expect(dry).toMatchObject({
      totalBookingsToCancel: 3,
      totalBookingsToHold: 2,
      familiesAffected: 4,
      dryRunId: 'dry-1',
    });
    const preview = (await h.call(
      'PreviewRemovalImpact',
      { removals, heldBatchId: 'hb-9' },
      tenant,
    )) as bookingsV1.PreviewRemovalImpactResponse__Output;
    expect(
      preview.events.map((g) => [g.event!.title, g.bookingsToCancel.length, g.familiesAffected]),
    ).toEqual([
      ['Year 7', 2, 2],
      ['Year 8', 1, 1],
      [live.event.title, 2, 2],
    ]);
    expect(preview).toMatchObject({ totalBookingsToCancel: 5, totalBookingsToHold: 0, familiesAffected: 4 });

    // Approve: the roster publishes the batch's removals as approved_held_batch.
    await h.sendRoster(
      removals.map((r) =>
        rosterEvent(tenant, r.kind, 'removed', r.id, {
          syncRunId: 'run-hb',
          reason: 'approved_held_batch',
          heldBatchId: 'hb-9',
        }),
      ),
    );
    const cancelled = (
      (await h.call(
        'ListBookings',
        { contactId: 'c1', status: 'cancelled' },
        tenant,
      )) as bookingsV1.ListBookingsResponse__Output
    ).bookings;
    const all = [] as string[];
    for (const c of ['c1', 'c2', 'c3', 'c4', 'c5']) {
      const r = (await h.call(
        'ListBookings',
        { contactId: c, status: 'cancelled' },
        tenant,
      )) as bookingsV1.ListBookingsResponse__Output;
      all.push(...r.bookings.map((x) => x.id));
    }
    expect(cancelled.length).toBe(2);
    expect(all.sort()).toEqual(preview.events.flatMap((g) => g.bookingsToCancel.map((x) => x.id)).sort());
  });
});
