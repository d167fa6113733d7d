import {
  BOOKING_CANCELLATION_REASONS,
  BOOKING_NOT_REINSTATED_REASONS,
  BOOKING_RELEASE_REASONS,
  bookingCancellationHeldV1,
  bookingCancellationReleasedV1,
  bookingCancelledV1,
  bookingNotReinstatedV1,
  bookingReinstatedV1,
} from '@isams-sync/events';
import type { CloudEvent } from '@isams-sync/events';
import { boundedLabel } from '@isams-sync/metrics';
import type { Metrics } from '@isams-sync/metrics';
import type { BookingEventPublisher } from '../../domain/booking-event-publisher.port';

const reasonOf = (e: CloudEvent): string | undefined => {
  const r = (e.data as { reason?: unknown } | undefined)?.reason;
  return typeof r === 'string' ? r : undefined;
};

/**
 * `name{reason}`, every reason of `reasons` at 0 from the start; the returned function counts an
 * event by its reason (`other` outside `reasons`).
 */
function reasonCounter(
  metrics: Metrics,
  name: string,
  help: string,
  reasons: readonly string[],
): (e: CloudEvent) => void {
  const known: ReadonlySet<string> = new Set(reasons);
  const counter = metrics.counter<'reason'>({ name, help, labelNames: ['reason'] });
  for (const reason of known) counter.inc({ reason }, 0);
  return (e) => counter.inc({ reason: boundedLabel(reasonOf(e), known) });
}

/**
 * Wraps the booking-event publisher so what bookings did is counted once it is published (a
 * published event is what the bookings product acts on): `bookings_cancelled_total{reason}`,
 * `bookings_reinstated_total`, `bookings_not_reinstated_total{reason}`,
 * `bookings_cancellations_held_total` and `bookings_cancellations_released_total{reason}`. The reasons are the events' enums (bounded; anything else
 * `other`); every reason starts at 0, so the series exist before the first event.
 */
export function countingPublisher(inner: BookingEventPublisher, metrics: Metrics): BookingEventPublisher {
  const cancelled = reasonCounter(
    metrics,
    'bookings_cancelled_total',
    'Bookings cancelled (booking.cancelled.v1 published), by reason',
    BOOKING_CANCELLATION_REASONS,
  );
  const reinstated = metrics.counter({
    name: 'bookings_reinstated_total',
    help: 'Cancelled bookings reinstated because the person was restored (booking.reinstated.v1 published)',
  });
  const notReinstated = reasonCounter(
    metrics,
    'bookings_not_reinstated_total',
    'Cancelled bookings not reinstated when the person was restored (booking.not-reinstated.v1 published), by reason',
    BOOKING_NOT_REINSTATED_REASONS,
  );
  const held = metrics.counter({
    name: 'bookings_cancellations_held_total',
    help: 'Cancellations held as pending during a live event (booking.cancellation-held.v1 published)',
  });
  const released = reasonCounter(
    metrics,
    'bookings_cancellations_released_total',
    'Held cancellations released, the booking kept (booking.cancellation-released.v1 published), by reason',
    BOOKING_RELEASE_REASONS,
  );
  return {
    async publish(events) {
      await inner.publish(events);
      for (const e of events) {
        if (bookingCancelledV1.matches(e)) cancelled(e);
        else if (bookingReinstatedV1.matches(e)) reinstated.inc();
        else if (bookingNotReinstatedV1.matches(e)) notReinstated(e);
        else if (bookingCancellationHeldV1.matches(e)) held.inc();
        else if (bookingCancellationReleasedV1.matches(e)) released(e);
      }
    },
  };
}
