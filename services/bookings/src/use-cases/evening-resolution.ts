import type { BookingsStore } from './ports';
import type { BookingEventPublisher } from '../domain/booking-event-publisher.port';
import { cancellationReleasedEvent, cancelledEvent } from '../domain/booking-events';
import type { BookableEvent } from '../domain/booking-model';
import { decideHeldAtEveningEnd } from '../domain/removal-decision';
import { EVENING_ENDED, eveningEndReleaseAt } from '../domain/roster-change-plan';

/** What resolving an ended evening's held cancellations needs. */
export interface EveningResolutionDeps {
  store: BookingsStore;
  publisher: BookingEventPublisher;
  now: () => Date;
}

/**
 * Resolves an ended evening's held cancellations ({@link decideHeldAtEveningEnd}): each booking a
 * removal still holds is cancelled (`roster_removal_event_finished`), only while it is still held as
 * read (`cancelHeld`: a restore that released or narrowed the hold meanwhile wins); a hold no removal
 * names any more is released (`booking.cancellation-released.v1`, `event_finished`). Crash-safe and
 * idempotent: every booking cancelled or released this way is published again (same id, same time)
 * until the evening is struck off the work list, last — and only when no hold is left in it (one
 * released or narrowed meanwhile, or written by a consumer that decided before the evening ended, is
 * resolved by the sweep's next pass). Called by the admin's UpdateEvent (finished), the end-of-evening sweep, and the
 * consumer when the evening of a hold it just wrote has ended meanwhile. Returns how many it cancelled.
 */
export async function resolveEvening(
  deps: EveningResolutionDeps,
  tenantId: string,
  event: BookableEvent,
): Promise<number> {
  const { store, publisher } = deps;
  const at = deps.now();
  let cancelled = 0;
  for (const b of await store.pendingInEvent(tenantId, event.id)) {
    const decision = decideHeldAtEveningEnd(b);
    if (decision.outcome === 'release') {
      await store.clearPending(tenantId, b, { at, action: 'hold_cleared', reason: EVENING_ENDED });
      continue;
    }
    const done = await store.cancelHeld(
      tenantId,
      b,
      { reason: 'roster_removal_event_finished', at, roster: decision.cause },
      {
        at,
        action: 'cancelled',
        reason: 'roster_removal_event_finished',
        rosterEventId: decision.cause.rosterEventId,
      },
    );
    if (done) cancelled++;
  }
  const released = (await store.releasedAtEveningEnd(tenantId, event.id)).flatMap((b) => {
    const releasedAt = eveningEndReleaseAt(b);
    return releasedAt
      ? [cancellationReleasedEvent(tenantId, b, { reason: 'event_finished', at: releasedAt })]
      : [];
  });
  const cancelledAtEnd = await store.cancelledAtEveningEnd(tenantId, event.id);
  await publisher.publish([...released, ...cancelledAtEnd.map((b) => cancelledEvent(tenantId, b))]);
  if ((await store.pendingInEvent(tenantId, event.id)).length === 0)
    await store.forgetHeldEvening(tenantId, event.id);
  return cancelled;
}
