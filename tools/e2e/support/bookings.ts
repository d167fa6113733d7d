import { eventually } from '@isams-sync/testing';
import type { BookingView, ServiceClients } from './grpc-clients';

export interface BookedEvent {
  eventId: string;
  /** pupil id → booking id */
  bookingByPupil: Map<string, string>;
}

/**
 * A future parents' evening (as the bookings product would create it) with one appointment per
 * pupil with one teacher; `dayOffset` keeps several events of one school from overlapping.
 */
export async function bookParentsEvening(
  clients: ServiceClients,
  tenantId: string,
  pupilIds: readonly string[],
  staffId: string,
  contactOf: ReadonlyMap<string, string>,
  dayOffset = 7,
): Promise<BookedEvent> {
  const day = new Date(Date.now() + dayOffset * 86_400_000);
  day.setUTCHours(15, 0, 0, 0);
  const event = await clients.bookings(tenantId, (c) => c.createEvent, {
    kind: 'parents_evening',
    title: `Parents Evening +${dayOffset}`,
    startsAt: day.toISOString(),
    endsAt: new Date(day.getTime() + 8 * 3_600_000).toISOString(),
    status: 'open',
  });
  const { slots } = await clients.bookings(tenantId, (c) => c.createSlots, {
    eventId: event.id,
    slots: pupilIds.map((_p, i) => ({
      startsAt: new Date(day.getTime() + i * 300_000).toISOString(),
      endsAt: new Date(day.getTime() + (i + 1) * 300_000).toISOString(),
      staffId,
      capacity: 1,
    })),
  });
  const bookingByPupil = new Map<string, string>();
  for (const [i, pupilId] of pupilIds.entries()) {
    const b = await clients.bookings(tenantId, (c) => c.createBooking, {
      slotId: slots[i]!.id,
      pupilId,
      contactId: contactOf.get(pupilId),
    });
    bookingByPupil.set(pupilId, b.id);
  }
  return { eventId: event.id, bookingByPupil };
}

export async function listBookings(
  clients: ServiceClients,
  tenantId: string,
  eventId: string,
): Promise<BookingView[]> {
  const all: BookingView[] = [];
  let pageToken = '';
  do {
    const res = await clients.bookings(tenantId, (c) => c.listBookings, {
      eventId,
      page: { pageSize: 200, pageToken },
    });
    all.push(...res.bookings);
    pageToken = res.page?.nextPageToken ?? '';
  } while (pageToken !== '');
  return all;
}

/** `pupil status reason` per booking, sorted: comparable across schools (ids differ per school). */
export function bookingOutcomes(bookings: readonly BookingView[]): string[] {
  return bookings.map((b) => `${b.pupilId} ${b.status} ${b.cancellation?.reason ?? '-'}`).sort();
}

/** The cancelled ones of `bookings`. */
export function cancelledOf<B extends { status: string }>(bookings: readonly B[]): B[] {
  return bookings.filter((b) => b.status === 'cancelled');
}

/** The ids of the cancelled ones of `bookings`, sorted. */
export function cancelledBookingIds(bookings: readonly BookingView[]): string[] {
  return cancelledOf(bookings)
    .map((b) => b.id)
    .sort();
}

/** A {@link waitForBookings} condition: at least `n` of the bookings are cancelled. */
export const cancelledAtLeast = (n: number) => (bookings: readonly BookingView[]) =>
  cancelledOf(bookings).length >= n;

/** Polls until `done(bookings)` holds; returns the last list. */
export async function waitForBookings(
  clients: ServiceClients,
  tenantId: string,
  eventId: string,
  done: (bookings: BookingView[]) => boolean,
  timeoutMs = 180_000,
): Promise<BookingView[]> {
  let last: BookingView[] | undefined;
  // A bookings service briefly away (crash tests) is read again; at the deadline the caller gets
  // the last list read and its assertion says what differs.
  return eventually(
    async () => {
      last = await listBookings(clients, tenantId, eventId).catch(() => undefined);
      return last && done(last) ? last : undefined;
    },
    `the bookings of event ${eventId}`,
    { timeoutMs, intervalMs: 500 },
  ).catch(() => last ?? []);
}
