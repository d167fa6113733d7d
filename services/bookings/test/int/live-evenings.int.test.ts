import { describe, expect, it } from 'vitest';
import type { bookingsV1 } from '@isams-sync/grpc';
import { deterministicEventId } from '@isams-sync/events';
import { eventually, uniqueName } from '@isams-sync/testing';
import { book, getBooking } from '../support/fixtures';
import { errorOf, rosterEvent, useHarness } from '../support/harness';
import type { Harness } from '../support/harness';

const CANCELLED = 'com.schoolcloud.isams-sync.bookings.booking.cancelled.v1';
const HELD = 'com.schoolcloud.isams-sync.bookings.booking.cancellation-held.v1';
const RELEASED = 'com.schoolcloud.isams-sync.bookings.booking.cancellation-released.v1';

// The school's clock (every decision reads it); each test sets it.
let clock = new Date('2027-06-14T23:30:00Z');

/** An evening with four 10-minute slots from `startsAt`. */
async function evening(h: Harness, tenant: string, id: string, startsAt: string, endsAt: string) {
  await h.call(
    'CreateEvent',
    { id, kind: 'parents_evening', title: `Evening ${id}`, startsAt, endsAt, status: 'open' },
    tenant,
  );
  const start = new Date(startsAt).getTime();
  return (
    (await h.call(
      'CreateSlots',
      {
        eventId: id,
        slots: Array.from({ length: 4 }, (_, i) => ({
          id: `${id}-s${i}`,
          startsAt: new Date(start + i * 600_000).toISOString(),
          endsAt: new Date(start + (i + 1) * 600_000).toISOString(),
        })),
      },
      tenant,
    )) as bookingsV1.CreateSlotsResponse__Output
  ).slots;
}

/** On 14 June 2027: the evening of 15 June (16:00–20:00 BST) and the one a week later. */
async function thisWeekAndNext(h: Harness, tenant: string) {
  clock = new Date('2027-06-14T10:00:00Z');
  return {
    today: await evening(h, tenant, 'today', '2027-06-15T15:00:00Z', '2027-06-15T19:00:00Z'),
    later: await evening(h, tenant, 'later', '2027-06-22T15:00:00Z', '2027-06-22T19:00:00Z'),
  };
}

describe('live evenings in the school’s time zone (real Kafka + FerretDB)', () => {
  // The sweep is driven by the test (resolveEndedEvenings), not by the interval.
  const h = useHarness({ now: () => clock });

  const published = (tenant: string, type: string) =>
    h.published.filter((e) => e.tenantid === tenant && e.type === type);

  it('a removal at 00:30 in London (BST) on the evening’s day holds its bookings — UTC still says yesterday', async () => {
    const tenant = uniqueName('school');
    clock = new Date('2027-06-14T10:00:00Z');
    // 15 June 2027, 16:00–20:00 BST.
    const slots = await evening(h, tenant, 'june', '2027-06-15T15:00:00Z', '2027-06-15T19:00:00Z');
    const b = await book(h, tenant, slots[0]!.id, 't1', 'p1', 'c1');

    clock = new Date('2027-06-14T23:30:00Z'); // 00:30 on 15 June in London
    await h.sendRoster([rosterEvent(tenant, 'pupil', 'removed', 'p1', { time: clock })]);

    expect(await getBooking(h, tenant, b.id)).toMatchObject({ status: 'booked', pendingCancellation: true });
    await eventually(() => published(tenant, HELD).length === 1, 'booking.cancellation-held');
    expect(published(tenant, CANCELLED)).toHaveLength(0);
  });

  it('a school in Sydney: its time zone set through SetSchoolTimeZone decides what today is', async () => {
    const tenant = uniqueName('school');
    expect(await h.call('SetSchoolTimeZone', { timeZone: 'Australia/Sydney' }, tenant)).toMatchObject({
      timeZone: 'Australia/Sydney',
    });
    clock = new Date('2027-03-08T00:00:00Z');
    // 10 March 2027, 17:00–20:00 AEDT (UTC+11) = 06:00–09:00 UTC.
    const slots = await evening(h, tenant, 'syd', '2027-03-10T06:00:00Z', '2027-03-10T09:00:00Z');
    const held = await book(h, tenant, slots[0]!.id, 't1', 'p1', 'c1');

    clock = new Date('2027-03-09T21:00:00Z'); // 08:00 on 10 March in Sydney, 9 March in UTC and London
    await h.sendRoster([rosterEvent(tenant, 'pupil', 'removed', 'p1', { time: clock })]);
    expect(await getBooking(h, tenant, held.id)).toMatchObject({
      status: 'booked',
      pendingCancellation: true,
    });

    const bad = await errorOf(h.call('SetSchoolTimeZone', { timeZone: 'Mars/Olympus' }, tenant));
    expect(bad.errorCode).toBe('BOOKINGS_TIME_ZONE_UNKNOWN');
    expect(
      ((await h.call('ListEvenings', {}, tenant)) as bookingsV1.ListEveningsResponse__Output).timeZone,
    ).toBe('Australia/Sydney');
  });

  it('a restore that releases a held cancellation publishes booking.cancellation-released.v1 after the held one', async () => {
    const tenant = uniqueName('school');
    const { today, later } = await thisWeekAndNext(h, tenant);
    const held = await book(h, tenant, today[0]!.id, 't1', 'p1', 'c1');
    const other = await book(h, tenant, later[0]!.id, 't1', 'p2', 'c2');

    clock = new Date('2027-06-15T08:00:00Z'); // 09:00 BST on the evening's day
    await h.sendRoster([rosterEvent(tenant, 'pupil', 'removed', 'p1', { time: clock })]);
    clock = new Date('2027-06-15T08:05:00Z'); // the run is undone
    const restore = rosterEvent(tenant, 'pupil', 'restored', 'p1', { syncRunId: 'run-1', time: clock });
    await h.sendRoster([restore]);
    const after = await getBooking(h, tenant, held.id);
    expect([after.status, after.pendingCancellation]).toEqual(['booked', false]);

    // Published after the restore's events, on the same partition (key = tenant): once its event is
    // seen, everything the restore published has been seen.
    await h.sendRoster([rosterEvent(tenant, 'pupil', 'removed', 'p2', { syncRunId: 'run-2', time: clock })]);
    await eventually(
      () => published(tenant, CANCELLED).some((e) => e.subject === other.id),
      'p2’s booking.cancelled',
    );
    const about = h.published.filter((e) => e.tenantid === tenant && e.subject === held.id);
    expect(about.map((e) => e.type)).toEqual([HELD, RELEASED]);
    expect(about[1]).toMatchObject({
      id: deterministicEventId(RELEASED, tenant, held.id, restore.id),
      time: clock.toISOString(),
      syncrunid: 'run-1',
      data: {
        eventId: 'today',
        reason: 'person_restored',
        releasedAt: clock.toISOString(),
        roster: { rosterEventId: restore.id, personKind: 'pupil', personId: 'p1', syncRunId: 'run-1' },
      },
    });
  });

  it('lists the live evening with the cancellations it holds and the families affected', async () => {
    const tenant = uniqueName('school');
    const { today, later } = await thisWeekAndNext(h, tenant);
    const a = await book(h, tenant, today[0]!.id, 't1', 'p1', 'c1');
    const b = await book(h, tenant, today[1]!.id, 't1', 'p2', 'c1');
    await book(h, tenant, today[2]!.id, 't1', 'p3', 'c3');
    const future = await book(h, tenant, later[0]!.id, 't1', 'p1', 'c1');

    clock = new Date('2027-06-15T08:00:00Z'); // 09:00 BST on the evening's day
    await h.sendRoster([
      rosterEvent(tenant, 'pupil', 'removed', 'p1', { time: clock }),
      rosterEvent(tenant, 'pupil', 'removed', 'p2', { time: clock }),
    ]);
    // Next week's evening is not live: the removal cancels there at once.
    expect((await getBooking(h, tenant, future.id)).status).toBe('cancelled');

    const list = (await h.call('ListEvenings', {}, tenant)) as bookingsV1.ListEveningsResponse__Output;
    expect(list.timeZone).toBe('Europe/London');
    expect(list.evenings.map((e) => [e.event!.id, e.state])).toEqual([['today', 'live']]);
    expect(list.evenings[0]!.pending.map((x) => [x.id, x.pupilId, x.pendingCancellation])).toEqual([
      [a.id, 'p1', true],
      [b.id, 'p2', true],
    ]);
    expect(list.evenings[0]!.familiesAffected).toBe(1);
  });

  it('when the evening’s day passes (London’s midnight, before UTC’s) what is still held is cancelled, once; a restored person’s booking stays', async () => {
    const tenant = uniqueName('school');
    clock = new Date('2027-06-14T10:00:00Z');
    const slots = await evening(h, tenant, 'ends', '2027-06-15T15:00:00Z', '2027-06-15T19:00:00Z');
    const gone = await book(h, tenant, slots[0]!.id, 't1', 'p1', 'c1');
    const back = await book(h, tenant, slots[1]!.id, 't1', 'p2', 'c2');
    clock = new Date('2027-06-15T12:00:00Z');
    const removal = rosterEvent(tenant, 'pupil', 'removed', 'p1', { time: clock });
    await h.sendRoster([removal, rosterEvent(tenant, 'pupil', 'removed', 'p2', { time: clock })]);
    clock = new Date('2027-06-15T12:05:00Z');
    await h.sendRoster([rosterEvent(tenant, 'pupil', 'restored', 'p2', { syncRunId: 'run-2', time: clock })]);

    // 23:30 BST on the evening's day: not over yet, nothing resolved.
    clock = new Date('2027-06-15T22:30:00Z');
    await h.app.useCases.resolveEndedEvenings();
    expect((await getBooking(h, tenant, gone.id)).status).toBe('booked');

    // 00:00 BST the next day = 23:00 UTC, still 15 June in UTC.
    clock = new Date('2027-06-15T23:00:00Z');
    await h.app.useCases.resolveEndedEvenings();
    expect(await getBooking(h, tenant, gone.id)).toMatchObject({
      status: 'cancelled',
      pendingCancellation: false,
      cancellation: { reason: 'roster_removal_event_finished', rosterEventId: removal.id, personId: 'p1' },
    });
    expect(await getBooking(h, tenant, back.id)).toMatchObject({
      status: 'booked',
      pendingCancellation: false,
    });
    await eventually(() => published(tenant, CANCELLED).length === 1, 'one booking.cancelled');

    // A second sweep (another replica, a restart) changes nothing.
    await h.app.useCases.resolveEndedEvenings();
    const list = (await h.call('ListEvenings', {}, tenant)) as bookingsV1.ListEveningsResponse__Output;
    expect(list.evenings).toEqual([]);
    expect(
      (await getBooking(h, tenant, gone.id)).history.filter((x) => x.action === 'cancelled'),
    ).toHaveLength(1);
    expect(new Set(published(tenant, CANCELLED).map((e) => e.id)).size).toBe(1);
  });
});
