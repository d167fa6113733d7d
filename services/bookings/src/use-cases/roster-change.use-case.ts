import type { CloudEvent, RosterChangeData } from '@isams-sync/events';
import type { Logger } from '@isams-sync/logger';
import type { BookingsStore } from './ports';
import type { BookingEventPublisher } from '../domain/booking-event-publisher.port';
import { BookingsErrors } from '../domain/bookings-errors';
import { concernsBookings, personOfChange, planBatch, unchanged } from '../domain/roster-change-plan';
import type { RosterChangeOutcome } from '../domain/roster-change-plan';
import { changeOrderOf, isStaleChange } from '../domain/roster-ordering';
import { applyRemoval, applyRemovals } from './roster-removal.steps';
import { applyRestore } from './roster-restore.steps';

/**
 * Applies roster change events to the bookings (the consumer's handlers). Exactly once in effect:
 * - a processed-event record (tenant, event id) written AFTER the effects skips duplicates;
 * - every effect is a conditional, idempotent write and every published event has a deterministic
 *   id, so a crash between effects and the record re-runs harmlessly (same events re-published);
 * - per person, the last applied change's revision (its `time` when either change has none) orders
 *   changes: an older one (a replay, or a replica that stalled) changes nothing, and the person's
 *   state is written only over an older one ({@link isStaleChange});
 * - a write over a booking as read that misses (it changed since) decides the change again.
 * What a change means is decided in `domain/roster-change-plan.ts` and `domain/removal-decision.ts`;
 * `roster-removal.steps.ts` and `roster-restore.steps.ts` carry it out.
 */
/** Attempts of one roster change whose conditional writes keep missing (each decides it again). */
export const WRITE_CONFLICT_ATTEMPTS = 5;

export function createRosterChangeHandler(deps: {
  store: BookingsStore;
  publisher: BookingEventPublisher;
  now?: () => Date;
  logger: Logger;
}) {
  const { store } = deps;
  const steps = { store, publisher: deps.publisher, now: deps.now ?? (() => new Date()) };

  /**
   * Applies one roster change event. A conditional write that missed (BOOKINGS_WRITE_CONFLICT: a booking
   * changed between the change's read and its write) decides the change again from its start — what
   * the first attempt wrote is what a crash would have left, which every step takes up — up to
   * {@link WRITE_CONFLICT_ATTEMPTS} times; a write that misses on every fresh read is not a race, and
   * fails with the permanent BOOKINGS_WRITE_CONFLICT_PERSISTS (the consumer dead-letters the event
   * rather than retry it for ever and hold up its partition).
   */
  async function handle(event: CloudEvent<RosterChangeData>): Promise<RosterChangeOutcome> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await handleOnce(event);
      } catch (err) {
        if (!BookingsErrors.BOOKINGS_WRITE_CONFLICT.is(err)) throw err;
        if (attempt >= WRITE_CONFLICT_ATTEMPTS)
          throw BookingsErrors.BOOKINGS_WRITE_CONFLICT_PERSISTS(
            {
              bookingId: String(err.details?.bookingId),
              attempts: attempt,
            },
            { cause: err },
          );
        deps.logger.info(
          { tenantId: event.tenantid, eventId: event.id, attempt, code: err.code },
          'a booking changed while a roster change was applied to it; deciding it again',
        );
      }
    }
  }

  async function handleOnce(event: CloudEvent<RosterChangeData>): Promise<RosterChangeOutcome> {
    if (!concernsBookings(event.data)) return unchanged('ignored');
    const tenantId = event.tenantid;
    if (await store.isProcessed(tenantId, event.id)) return unchanged('duplicate');
    const { kind, personId } = personOfChange(event);
    const state = await store.getPersonState(tenantId, kind, personId);
    let outcome: RosterChangeOutcome;
    if (isStaleChange(state, changeOrderOf(event))) outcome = unchanged('stale');
    else if (event.data.change === 'removed') outcome = await applyRemoval(steps, event);
    else outcome = await applyRestore(steps, event);
    await store.markProcessed(tenantId, event.id, event.type, { ...outcome });
    return outcome;
  }

  /**
   * Applies consecutive roster change events (one Kafka batch of a partition, several schools mixed)
   * with the same outcome as {@link handle} called on each in order ({@link planBatch} cuts it into
   * steps). Removals are applied in bulk: per school, ONE lookup of the bookings naming the removed
   * people, then the pure `decideRemovals`, the cancellations in one bulk write, the booking events in
   * one publish, the person states and processed records in one bulk write each — effects, publish,
   * state, record, the same order as one event, so a crash at any step re-runs the batch to the same
   * state. A `restored` (rare in a burst) is applied alone, in its place; a person removed twice
   * starts a new bulk group. Returns the outcome of each event, in order.
   */
  async function handleBatch(
    events: ReadonlyArray<CloudEvent<RosterChangeData>>,
  ): Promise<RosterChangeOutcome[]> {
    const outcomes: RosterChangeOutcome[] = Array.from({ length: events.length }, () => unchanged('ignored'));
    for (const step of planBatch(events)) {
      if (step.apply === 'alone') {
        outcomes[step.index] = await handle(events[step.index]!);
        continue;
      }
      // A school whose bulk write met a booking changed since its read: its removals decided again alone.
      const done = await applyRemovals(
        steps,
        step.indexes.map((i) => events[i]!),
        handle,
      );
      step.indexes.forEach((i, k) => (outcomes[i] = done[k]!));
    }
    return outcomes;
  }

  return { handle, handleBatch };
}
