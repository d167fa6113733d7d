import type { BookableEvent, Booking, PersonKind } from './booking-model';
import { decideRemoval, isLiveEvening } from './removal-decision';
import { DEFAULT_SCHOOL_TIME_ZONE } from './school-calendar';
import type { RemovalInput } from './removal-decision';

export interface ImpactRemoval {
  kind: PersonKind;
  personId: string;
}

export interface EventImpact {
  event: BookableEvent;
  live: boolean;
  /** Bookings the removals cancel, sorted by start time then id. */
  cancel: Booking[];
  /** Bookings held as pendingCancellation (live event, not an approved held batch). */
  hold: Booking[];
  /** Distinct contacts (parents who booked) among cancel + hold. */
  familiesAffected: number;
}

export interface RemovalImpact {
  events: EventImpact[];
  totalCancel: number;
  totalHold: number;
  familiesAffected: number;
}

const byStart = (a: Booking, b: Booking) =>
  a.startsAt.getTime() - b.startsAt.getTime() || a.id.localeCompare(b.id);

/**
 * The booking impact of a set of removals, grouped by event: exactly what the consumer would do
 * when it receives those removals (one {@link decideRemoval} per person, in order, each seeing the
 * previous ones' cancellations), so approving what was previewed yields what was previewed.
 *
 * `timeZone`: the school's, for what counts as a live evening ({@link isLiveEvening}).
 * `reason`: `approved_held_batch` when previewing the approval of a held batch, else `absent_from_feed`.
 */
export function previewRemovalImpact(
  removals: readonly ImpactRemoval[],
  reason: RemovalInput['reason'],
  bookings: readonly Booking[],
  events: ReadonlyMap<string, BookableEvent>,
  now: Date,
  timeZone: string = DEFAULT_SCHOOL_TIME_ZONE,
): RemovalImpact {
  const cancelled = new Map<string, Booking>();
  const held = new Map<string, Booking>();
  const seen = new Set<string>();
  for (const removal of removals) {
    const key = `${removal.kind}:${removal.personId}`;
    if (seen.has(key)) continue;
    seen.add(key);
    // Simulate the earlier removals' effects: what they cancelled is no longer `booked`.
    const current = bookings.map((b) => (cancelled.has(b.id) ? { ...b, status: 'cancelled' as const } : b));
    const decision = decideRemoval(
      { ...removal, reason, rosterEventId: `preview:${key}` },
      current,
      events,
      now,
      timeZone,
    );
    for (const b of decision.cancel) {
      cancelled.set(b.id, b);
      held.delete(b.id);
    }
    for (const b of decision.hold) if (!cancelled.has(b.id)) held.set(b.id, b);
  }
  const grouped = new Map<string, EventImpact>();
  const group = (b: Booking): EventImpact => {
    let g = grouped.get(b.eventId);
    if (!g) {
      const event = events.get(b.eventId)!;
      g = { event, live: isLiveEvening(event, now, timeZone), cancel: [], hold: [], familiesAffected: 0 };
      grouped.set(b.eventId, g);
    }
    return g;
  };
  for (const b of cancelled.values()) group(b).cancel.push(b);
  for (const b of held.values()) group(b).hold.push(b);
  const allFamilies = new Set<string>();
  const result = [...grouped.values()].sort(
    (a, b) => a.event.startsAt.getTime() - b.event.startsAt.getTime() || a.event.id.localeCompare(b.event.id),
  );
  for (const g of result) {
    g.cancel.sort(byStart);
    g.hold.sort(byStart);
    const families = new Set([...g.cancel, ...g.hold].map((b) => b.contactId));
    g.familiesAffected = families.size;
    for (const f of families) allFamilies.add(f);
  }
  return {
    events: result,
    totalCancel: cancelled.size,
    totalHold: held.size,
    familiesAffected: allFamilies.size,
  };
}
