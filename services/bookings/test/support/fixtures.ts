import type { bookingsV1 } from '@isams-sync/grpc';
import type { Harness } from './harness';

const DAY = 86_400_000;

/** An event `daysAhead` days from now (16:00–20:00 UTC) with `slotCount` 10-minute slots (capacity 1). */
export async function makeEvent(
  h: Harness,
  tenantId: string,
  opts: {
    id: string;
    daysAhead?: number;
    status?: 'open' | 'live';
    slotCount?: number;
    staffId?: string;
    title?: string;
  },
): Promise<{ event: bookingsV1.Event__Output; slots: bookingsV1.Slot__Output[] }> {
  const day = new Date(Math.floor((Date.now() + (opts.daysAhead ?? 7) * DAY) / DAY) * DAY);
  const startsAt = new Date(day.getTime() + 16 * 3_600_000);
  const endsAt = new Date(day.getTime() + 20 * 3_600_000);
  const event = (await h.call(
    'CreateEvent',
    {
      id: opts.id,
      kind: 'parents_evening',
      title: opts.title ?? `Evening ${opts.id}`,
      startsAt: startsAt.toISOString(),
      endsAt: endsAt.toISOString(),
      status: 'open',
    },
    tenantId,
  )) as bookingsV1.Event__Output;
  const slots = (
    (await h.call(
      'CreateSlots',
      {
        eventId: event.id,
        slots: Array.from({ length: opts.slotCount ?? 4 }, (_, i) => ({
          id: `${opts.id}-s${i}`,
          startsAt: new Date(startsAt.getTime() + i * 600_000).toISOString(),
          endsAt: new Date(startsAt.getTime() + (i + 1) * 600_000).toISOString(),
          ...(opts.staffId ? { staffId: opts.staffId } : {}),
        })),
      },
      tenantId,
    )) as bookingsV1.CreateSlotsResponse__Output
  ).slots;
  if (opts.status === 'live') await h.call('UpdateEvent', { eventId: event.id, status: 'live' }, tenantId);
  return { event, slots };
}

export async function book(
  h: Harness,
  tenantId: string,
  slotId: string,
  staffId: string,
  pupilId: string,
  contactId: string,
): Promise<bookingsV1.Booking__Output> {
  return (await h.call(
    'CreateBooking',
    { slotId, staffId, pupilId, contactId },
    tenantId,
  )) as bookingsV1.Booking__Output;
}

export async function getBooking(
  h: Harness,
  tenantId: string,
  bookingId: string,
): Promise<bookingsV1.Booking__Output> {
  return (await h.call('GetBooking', { bookingId }, tenantId)) as bookingsV1.Booking__Output;
}
