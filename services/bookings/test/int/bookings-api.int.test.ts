import { describe, expect, it } from 'vitest';
import { GrpcStatus } from '@isams-sync/errors';
import type { bookingsV1 } from '@isams-sync/grpc';
import { eventually, uniqueName } from '@isams-sync/testing';
import { book, makeEvent } from '../support/fixtures';
import { errorOf, useHarness } from '../support/harness';

const known = new Set([
  'staff:t1',
  'staff:t2',
  'pupil:p1',
  'pupil:p2',
  'pupil:p3',
  'contact:c1',
  'contact:c2',
  'contact:c3',
]);

// One service (real FerretDB + Kafka, in-process gRPC) and one school for every describe below,
// started once for the file; the tests run in file order ("keeps schools apart" looks for the event
// the first test creates).
const h = useHarness({
  roster: { personExists: (_t, kind, id) => Promise.resolve(known.has(`${kind}:${id}`)) },
});
const tenant = uniqueName('school');

describe('BookingsService API: events and slots', () => {
  it('creates, updates and lists events and slots', async () => {
    const { event, slots } = await makeEvent(h, tenant, { id: 'spring-ev', slotCount: 3 });
    expect(event).toMatchObject({ id: 'spring-ev', status: 'open', kind: 'parents_evening' });
    expect(slots.map((s) => s.id)).toEqual(['spring-ev-s0', 'spring-ev-s1', 'spring-ev-s2']);
    const updated = (await h.call(
      'UpdateEvent',
      { eventId: 'spring-ev', title: 'Year 9 evening' },
      tenant,
    )) as bookingsV1.Event__Output;
    expect(updated.title).toBe('Year 9 evening');
    const listed = (await h.call('ListEvents', {}, tenant)) as bookingsV1.ListEventsResponse__Output;
    expect(listed.events.map((e) => e.id)).toContain('spring-ev');
    const slot = (await h.call(
      'UpdateSlot',
      { slotId: 'spring-ev-s1', capacity: 2, location: 'Room 4' },
      tenant,
    )) as bookingsV1.Slot__Output;
    expect(slot).toMatchObject({ capacity: 2, location: 'Room 4' });
    const listedSlots = (await h.call(
      'ListSlots',
      { eventId: 'spring-ev' },
      tenant,
    )) as bookingsV1.ListSlotsResponse__Output;
    expect(listedSlots.slots).toHaveLength(3);
    expect(
      (
        await errorOf(
          h.call(
            'CreateEvent',
            { id: 'spring-ev', kind: 'club', title: 'x', startsAt: event.startsAt, endsAt: event.endsAt },
            tenant,
          ),
        )
      ).errorCode,
    ).toBe('BOOKINGS_EVENT_EXISTS');
  });
});

describe('BookingsService API: booking, and the bookings it refuses', () => {
  it('books, refuses double-booking a slot or a teacher, and lists by event, pupil, teacher and contact', async () => {
    const { slots } = await makeEvent(h, tenant, { id: 'ev-double', slotCount: 2 });
    const other = await makeEvent(h, tenant, { id: 'ev-parallel', slotCount: 1 });
    const b = await book(h, tenant, slots[0]!.id, 't1', 'p1', 'c1');
    expect(b).toMatchObject({
      status: 'booked',
      staffId: 't1',
      pupilId: 'p1',
      contactId: 'c1',
      eventId: 'ev-double',
    });

    const full = await errorOf(book(h, tenant, slots[0]!.id, 't1', 'p2', 'c2'));
    expect(full).toMatchObject({ code: GrpcStatus.FAILED_PRECONDITION, errorCode: 'BOOKINGS_SLOT_FULL' });
    // Same teacher, same time, another event's slot.
    const teacher = await errorOf(book(h, tenant, other.slots[0]!.id, 't1', 'p2', 'c2'));
    expect(teacher).toMatchObject({
      code: GrpcStatus.FAILED_PRECONDITION,
      errorCode: 'BOOKINGS_TEACHER_DOUBLE_BOOKED',
    });
    await book(h, tenant, other.slots[0]!.id, 't2', 'p2', 'c2');
    await book(h, tenant, slots[1]!.id, 't1', 'p3', 'c1');

    const list = async (filter: object) =>
      ((await h.call('ListBookings', filter, tenant)) as bookingsV1.ListBookingsResponse__Output).bookings
        .map((x) => x.pupilId)
        .sort();
    expect(await list({ eventId: 'ev-double' })).toEqual(['p1', 'p3']);
    expect(await list({ pupilId: 'p2' })).toEqual(['p2']);
    expect(await list({ staffId: 't1' })).toEqual(['p1', 'p3']);
    expect(await list({ contactId: 'c1' })).toEqual(['p1', 'p3']);
  });

  it('refuses people the roster does not know', async () => {
    const { slots } = await makeEvent(h, tenant, { id: 'ev-unknown', slotCount: 1, daysAhead: 20 });
    const err = await errorOf(book(h, tenant, slots[0]!.id, 't1', 'ghost', 'c1'));
    expect(err).toMatchObject({
      code: GrpcStatus.FAILED_PRECONDITION,
      errorCode: 'BOOKINGS_PERSON_UNKNOWN',
      details: { kind: 'pupil', personId: 'ghost' },
    });
  });
});

describe('BookingsService API: bad input and other schools', () => {
  it('rejects bad input with INVALID_ARGUMENT and the failing fields', async () => {
    const err = await errorOf(
      h.call(
        'CreateEvent',
        { kind: 'party', title: '', startsAt: 'tomorrow', endsAt: '2026-01-01T00:00:00Z' },
        tenant,
      ),
    );
    expect(err.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(err.errorCode).toBe('BOOKINGS_INVALID_REQUEST');
    const fields = (err.details as { fields: Array<{ field: string }> }).fields.map((f) => f.field).sort();
    expect(fields).toEqual(['kind', 'starts_at', 'title']);
    const list = await errorOf(h.call('ListBookings', { pupilId: 'p1', staffId: 't1' }, tenant));
    expect(list).toMatchObject({
      code: GrpcStatus.INVALID_ARGUMENT,
      details: { fields: [{ field: 'event_id' }] },
    });
    const slots = await errorOf(
      h.call(
        'CreateSlots',
        {
          eventId: 'spring-ev',
          slots: [{ startsAt: '2030-01-01T10:00:00Z', endsAt: '2030-01-01T09:00:00Z' }],
        },
        tenant,
      ),
    );
    expect(slots).toMatchObject({
      code: GrpcStatus.INVALID_ARGUMENT,
      details: { fields: [{ field: 'slots[0].ends_at' }] },
    });
    const preview = await errorOf(
      h.call('PreviewRemovalImpact', { removals: [{ kind: 'parent', id: 'x' }] }, tenant),
    );
    expect(preview).toMatchObject({
      code: GrpcStatus.INVALID_ARGUMENT,
      details: { fields: [{ field: 'removals[0].kind' }] },
    });
    expect((await errorOf(h.call('GetEvent', { eventId: 'nope' }, tenant))).code).toBe(GrpcStatus.NOT_FOUND);
    // A held batch without person removals has no impact (not an error).
    expect(
      await h.call('PreviewRemovalImpact', { removals: [], heldBatchId: 'hb-empty' }, tenant),
    ).toMatchObject({
      events: [],
      totalBookingsToCancel: 0,
      familiesAffected: 0,
      heldBatchId: 'hb-empty',
    });
  });

  it('keeps schools apart', async () => {
    const other = uniqueName('school');
    expect((await errorOf(h.call('GetEvent', { eventId: 'spring-ev' }, other))).code).toBe(
      GrpcStatus.NOT_FOUND,
    );
    expect(
      ((await h.call('ListBookings', { staffId: 't1' }, other)) as bookingsV1.ListBookingsResponse__Output)
        .bookings,
    ).toEqual([]);
    expect((await errorOf(h.call('ListEvents', {}, ''))).errorCode).toBe('GRPC_TENANT_REQUIRED');
  });
});

describe('BookingsService API: cancelling a booking and finishing an event', () => {
  it('cancels a booking through the API once, freeing the slot, and publishes booking.cancelled', async () => {
    const { slots } = await makeEvent(h, tenant, { id: 'ev-cancel', slotCount: 1, daysAhead: 21 });
    const b = await book(h, tenant, slots[0]!.id, 't2', 'p1', 'c1');
    const cancelled = (await h.call(
      'CancelBooking',
      { bookingId: b.id },
      tenant,
    )) as bookingsV1.Booking__Output;
    expect(cancelled).toMatchObject({ status: 'cancelled', cancellation: { reason: 'user_cancelled' } });
    expect((await errorOf(h.call('CancelBooking', { bookingId: b.id }, tenant))).errorCode).toBe(
      'BOOKINGS_ALREADY_CANCELLED',
    );
    const again = await book(h, tenant, slots[0]!.id, 't2', 'p2', 'c2');
    expect(again.status).toBe('booked');
    const event = await eventually(() => h.published.find((e) => e.subject === b.id), 'booking.cancelled');
    expect(event).toMatchObject({
      type: 'com.schoolcloud.isams-sync.bookings.booking.cancelled.v1',
      tenantid: tenant,
      data: { bookingId: b.id, reason: 'user_cancelled' },
    });
  });

  it('refuses changes to a finished event and status moves back', async () => {
    const { slots } = await makeEvent(h, tenant, { id: 'ev-finish', slotCount: 1, daysAhead: 22 });
    await h.call('UpdateEvent', { eventId: 'ev-finish', status: 'live' }, tenant);
    await h.call('UpdateEvent', { eventId: 'ev-finish', status: 'finished' }, tenant);
    expect(
      (await errorOf(h.call('UpdateEvent', { eventId: 'ev-finish', status: 'open' }, tenant))).errorCode,
    ).toBe('BOOKINGS_STATUS_TRANSITION');
    expect((await errorOf(book(h, tenant, slots[0]!.id, 't1', 'p1', 'c1'))).errorCode).toBe(
      'BOOKINGS_EVENT_NOT_BOOKABLE',
    );
  });
});
