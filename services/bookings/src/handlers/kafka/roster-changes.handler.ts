import { rosterChangeEventTypes } from '@isams-sync/events';
import type { CloudEvent, EventType, RosterChangeData } from '@isams-sync/events';
import type {
  BatchConsumerContext,
  BatchEventHandler,
  ConsumerContext,
  EventHandler,
} from '@isams-sync/kafka';
import type { Counter, Histogram } from '@isams-sync/metrics';
import { BookingsErrors } from '../../domain/bookings-errors';
import { rosterChangeProblems } from '../../domain/roster-change-plan';
import type { RosterChangeOutcome } from '../../domain/roster-change-plan';

/** The roster change types bookings acts on: pupil/staff/contact removed and restored. */
const RELEVANT = new Map<string, { type: EventType; change: 'removed' | 'restored' }>(
  (['pupil', 'staff', 'contact'] as const).flatMap((kind) =>
    (['removed', 'restored'] as const).map((change) => {
      const t = rosterChangeEventTypes[kind][change];
      return [t.type, { type: t, change }] as const;
    }),
  ),
);

/**
 * The event validated against its type's contract and against what bookings acts on
 * ({@link rosterChangeProblems}); undefined for a type bookings skips.
 * @throws `EVENT_DATA_INVALID` / `BOOKINGS_ROSTER_CHANGE_INVALID` (invalid_argument: dead-lettered)
 */
function validated(event: CloudEvent<unknown>): CloudEvent<RosterChangeData> | undefined {
  const relevant = RELEVANT.get(event.type);
  if (!relevant) return undefined;
  const typed = relevant.type.parse(event) as CloudEvent<RosterChangeData>;
  const problems = rosterChangeProblems(relevant.change, typed.data);
  if (problems.length > 0)
    throw BookingsErrors.BOOKINGS_ROSTER_CHANGE_INVALID({ eventId: event.id, type: event.type, problems });
  return typed;
}

/**
 * The `roster.changes.v1` consumer handler: other types are skipped; relevant ones are validated
 * against their contract and against what bookings acts on (bad data, or data that disagrees with its
 * type → `invalid_argument` → dead-lettered, not retried) and applied.
 */
export function rosterChangesHandler(
  apply: (event: CloudEvent<RosterChangeData>) => Promise<RosterChangeOutcome>,
  metrics?: { outcomes: Counter<'status'>; duration: Histogram },
): EventHandler {
  return async (event: CloudEvent<unknown>, ctx: ConsumerContext) => {
    const typed = validated(event);
    if (!typed) return;
    const started = performance.now();
    const outcome = await apply(typed);
    metrics?.outcomes.inc({ status: outcome.status });
    metrics?.duration.observe((performance.now() - started) / 1000);
    ctx.logger.info(
      {
        tenantId: event.tenantid,
        eventId: event.id,
        entityType: typed.data.entityType,
        change: typed.data.change,
        ...outcome,
      },
      'roster change applied to bookings',
    );
  };
}

/**
 * The batch form of {@link rosterChangesHandler} (the consumer's `batchHandler`): every relevant event
 * of the batch is validated first — one with bad data fails the batch with `invalid_argument` before
 * anything is applied, and the consumer splits the batch until that event is alone and dead-lettered
 * by {@link rosterChangesHandler} — then the batch is applied at once. `duration` observes each
 * event's share of the batch's time.
 */
export function rosterChangesBatchHandler(
  applyBatch: (events: ReadonlyArray<CloudEvent<RosterChangeData>>) => Promise<RosterChangeOutcome[]>,
  metrics?: { outcomes: Counter<'status'>; duration: Histogram },
): BatchEventHandler {
  return async (events: CloudEvent<unknown>[], ctx: BatchConsumerContext) => {
    const typed: Array<CloudEvent<RosterChangeData>> = [];
    for (const event of events) {
      const valid = validated(event);
      if (valid) typed.push(valid);
    }
    if (typed.length === 0) return;
    const started = performance.now();
    const outcomes = await applyBatch(typed);
    const share = (performance.now() - started) / 1000 / typed.length;
    for (const [i, event] of typed.entries()) {
      const outcome = outcomes[i]!;
      metrics?.outcomes.inc({ status: outcome.status });
      metrics?.duration.observe(share);
      ctx.logger.info(
        {
          tenantId: event.tenantid,
          eventId: event.id,
          entityType: event.data.entityType,
          change: event.data.change,
          batchSize: typed.length,
          ...outcome,
        },
        'roster change applied to bookings',
      );
    }
  };
}
