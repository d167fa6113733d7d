import { rosterChangeEventTypes } from '@isams-sync/events';
import type { CloudEvent, EventType, RosterChangeData } from '@isams-sync/events';
import type { ConsumerContext, EventHandler } from '@isams-sync/kafka';
import type { Counter, Histogram } from '@isams-sync/metrics';
import type { RosterChangeOutcome } from '../../use-cases/roster-change.use-case';

/** The roster change types bookings acts on: pupil/staff/contact removed and restored. */
const RELEVANT = new Map<string, EventType>(
  (['pupil', 'staff', 'contact'] as const).flatMap((kind) =>
    (['removed', 'restored'] as const).map((change) => {
      const t = rosterChangeEventTypes[kind][change];
      return [t.type, t] as [string, EventType];
    }),
  ),
);

/**
 * The `roster.changes.v1` consumer handler: other types are skipped; relevant ones are validated
 * against their contract (bad data → `invalid_argument` → dead-lettered, not retried) and applied.
 */
export function rosterChangesHandler(
  apply: (event: CloudEvent<RosterChangeData>) => Promise<RosterChangeOutcome>,
  metrics?: { outcomes: Counter<'status'>; duration: Histogram },
): EventHandler {
  return async (event: CloudEvent<unknown>, ctx: ConsumerContext) => {
    const type = RELEVANT.get(event.type);
    if (!type) return;
    const started = performance.now();
    const typed = type.parse(event) as CloudEvent<RosterChangeData>;
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
