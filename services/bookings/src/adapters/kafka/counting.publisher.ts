import {
  BOOKING_CANCELLATION_REASONS,
  BOOKING_NOT_REINSTATED_REASONS,
  bookingCancellationHeldV1,
  bookingCancelledV1,
  bookingNotReinstatedV1,
  bookingReinstatedV1,
} from '@isams-sync/events';
import type { CloudEvent } from '@isams-sync/events';
import { boundedLabel } from '@isams-sync/metrics';
import type { Metrics } from '@isams-sync/metrics';
import type { BookingEventPublisher } from '../../domain/booking-event-publisher.port';

const CANCELLATION_REASONS: ReadonlySet<string> = new Set(BOOKING_CANCELLATION_REASONS);
const NOT_REINSTATED_REASONS: ReadonlySet<string> = new Set(BOOKING_NOT_REINSTATED_REASONS);

const reasonOf = (e: CloudEvent): string | undefined => {
  const r = (e.data as { reason?: unknown } | undefined)?.reason;
  return typeof r === 'string' ? r : undefined;
};

/**
 * Wraps the booking-event publisher so what bookings did is counted once it is published (a
 * published event is what the bookings product acts on): `bookings_cancelled_total{reason}`,
 * `bookings_reinstated_total`, `bookings_not_reinstated_total{reason}` and
 * `bookings_cancellations_held_total`. The reasons are the events' enums (bounded; anything else
 * `other`); every reason starts at 0, so the series exist before the first event.
 */
export function countingPublisher(inner: BookingEventPublisher, metrics: Metrics): BookingEventPublisher {
  const cancelled = metrics.counter<'reason'>({
    name: 'bookings_cancelled_total',
    help: 'Bookings cancelled (booking.cancelled.v1 published), by reason',
    labelNames: ['reason'],
  });
  const reinstated = metrics.counter({
    name: 'bookings_reinstated_total',
    help: 'Cancelled bookings reinstated because the person was restored (booking.reinstated.v1 published)',
  });
  const notReinstated = metrics.counter<'reason'>({
    name: 'bookings_not_reinstated_total',
    help: 'Cancelled bookings not reinstated when the person was restored (booking.not-reinstated.v1 published), by reason',
    labelNames: ['reason'],
  });
  const held = metrics.counter({
    name: 'bookings_cancellations_held_total',
    help: 'Cancellations held as pending during a live event (booking.cancellation-held.v1 published)',
  });
  for (const reason of CANCELLATION_REASONS) cancelled.inc({ reason }, 0);
  for (const reason of NOT_REINSTATED_REASONS) notReinstated.inc({ reason }, 0);
  return {
    async publish(events) {
      await inner.publish(events);
      for (const e of events) {
        if (bookingCancelledV1.matches(e))
          cancelled.inc({ reason: boundedLabel(reasonOf(e), CANCELLATION_REASONS) });
        else if (bookingReinstatedV1.matches(e)) reinstated.inc();
        else if (bookingNotReinstatedV1.matches(e))
          notReinstated.inc({ reason: boundedLabel(reasonOf(e), NOT_REINSTATED_REASONS) });
        else if (bookingCancellationHeldV1.matches(e)) held.inc();
      }
    },
  };
}
