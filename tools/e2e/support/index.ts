import { expect } from 'vitest';
import { bookParentsEvening, waitForBookings } from './bookings';
import type { ServiceClients } from './grpc-clients';
import { rosterSnapshot } from './roster-snapshot';
import type { School, SyncRun } from './school';

export { School, type SyncRun } from './school';
export { serviceClients, type ServiceClients, type BookingView } from './grpc-clients';
export {
  rosterSnapshot,
  activeCounts,
  snapshotDiff,
  ENTITY_TYPES,
  type RosterSnapshot,
} from './roster-snapshot';
export {
  bookParentsEvening,
  listBookings,
  bookingOutcomes,
  waitForBookings,
  cancelledOf,
  cancelledAtLeast,
  cancelledBookingIds,
  type BookedEvent,
} from './bookings';
export { ChangeEventLog, type ChangeEvent } from './change-events';

/** Active ids of one entity type, in roster order. */
export function activeIds(snapshot: Map<string, string>, entityType: string): string[] {
  return [...snapshot]
    .filter(([k, v]) => k.startsWith(`${entityType}/`) && v.startsWith('active '))
    .map(([k]) => k.slice(entityType.length + 1));
}

/** pupil id → the id of a contact linked to that pupil (bookings are made by a contact). */
export function contactsByPupil(snapshot: Map<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of snapshot) {
    if (!k.startsWith('contact/') || !v.startsWith('active ')) continue;
    const data = JSON.parse(v.slice('active '.length)) as { pupils?: Array<{ pupilId: unknown }> };
    for (const l of data.pupils ?? [])
      if (!out.has(String(l.pupilId))) out.set(String(l.pupilId), k.slice(8));
  }
  return out;
}

/** The active pupils that have a contact (who can be booked), in roster order, and each one's contact. */
export function bookablePupils(snapshot: Map<string, string>): {
  pupils: string[];
  contacts: Map<string, string>;
} {
  const contacts = contactsByPupil(snapshot);
  return { pupils: activeIds(snapshot, 'pupil').filter((p) => contacts.has(p)), contacts };
}
/**
 * A leaver with a future booking, after a school's first sync: books its first `booked` bookable
 * pupils (with the first active staff member, `dayOffset` days ahead), removes the first of them
 * from iSAMS and syncs again; the run must be applied, and it waits until bookings has cancelled a
 * booking of the evening. Returns that run.
 */
export async function syncRemovingABookedPupil(
  clients: ServiceClients,
  school: School,
  { booked = 1, dayOffset }: { booked?: number; dayOffset?: number } = {},
): Promise<SyncRun> {
  const snap = await rosterSnapshot(clients, school.id);
  const { pupils, contacts } = bookablePupils(snap);
  const booking = pupils.slice(0, booked);
  const staff = activeIds(snap, 'staff')[0]!;
  const evening = await bookParentsEvening(clients, school.id, booking, staff, contacts, dayOffset);
  await school.sim('DELETE', `/pupils/${booking[0]}`);
  const run = await school.sync();
  expect(run.status, JSON.stringify(run.error)).toBe('applied');
  await waitForBookings(clients, school.id, evening.eventId, (l) => l.some((b) => b.status === 'cancelled'));
  return run;
}
export { captureReference, finishAfterCrash, expectSameAsReference, type Reference } from './crash';
export { PrivateInfra } from '@isams-sync/testing';
export { startSubscriber, expectCopyEqualsRoster, type Projection } from './subscriber-copy';
export { startSystemWithSchool, stopSystem, useWatchedSystem, type WatchedSystem } from './watched-system';
