import { eventually } from '@isams-sync/testing';
import { bookEvening } from '../../system-client/bookings-client';
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
  const { eventId, bookingIds } = await bookEvening(
    (method, req) => clients.bookings(tenantId, method, req),
    {
      title: `Parents Evening +${dayOffset}`,
      dayOffset,
      startHourUtc: 15,
      hours: 8,
      slotMs: 300_000,
      staffId,
      bookings: pupilIds.map((pupilId) => ({ pupilId, contactId: contactOf.get(pupilId) })),
    },
  );
  return { eventId, bookingByPupil: new Map(pupilIds.map((pupilId, i) => [pupilId, bookingIds[i]!])) };
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
