import { describe, expect, it } from 'vitest';
import {
  bookingCancellationHeldV1,
  bookingCancellationReleasedV1,
  bookingCancelledV1,
  bookingNotReinstatedV1,
  bookingReinstatedV1,
} from '@isams-sync/events';
import type { CloudEvent } from '@isams-sync/events';
import { createMetrics } from '@isams-sync/metrics';
import { countingPublisher } from '../../src/adapters/kafka/counting.publisher';

/** Only what the counting looks at: the type and the reason (the real events carry much more). */
const event = (type: string, reason?: string) =>
  ({ type, data: reason === undefined ? {} : { reason } }) as unknown as CloudEvent;

const lines = async (metrics: ReturnType<typeof createMetrics>) =>
  (await metrics.render())
    .split('\n')
    .filter((l) => l.startsWith('bookings_') && !l.startsWith('#'))
    .map((l) => l.replace(/,?service="bookings"/, '').replace('{}', ''));

describe('countingPublisher', () => {
  it('counts what was published by type and bounded reason, every reason from 0', async () => {
    const metrics = createMetrics({ service: 'bookings', collectDefault: false });
    const published: CloudEvent[] = [];
    const publisher = countingPublisher(
      { publish: async (events) => void published.push(...events) },
      metrics,
    );
    const before = await lines(metrics);
    expect(before).toContain('bookings_cancelled_total{reason="roster_removal"} 0');
    expect(before).toContain('bookings_not_reinstated_total{reason="slot_taken"} 0');

    const batch = [
      event(bookingCancelledV1.type, 'roster_removal'),
      event(bookingCancelledV1.type, 'roster_removal'),
      event(bookingCancelledV1.type, 'a reason nobody declared'),
      event(bookingReinstatedV1.type),
      event(bookingNotReinstatedV1.type, 'slot_taken'),
      event(bookingCancellationHeldV1.type),
      event(bookingCancellationReleasedV1.type, 'person_restored'),
    ];
    await publisher.publish(batch);
    expect(published).toEqual(batch);
    const after = await lines(metrics);
    expect(after).toEqual(
      expect.arrayContaining([
        'bookings_cancelled_total{reason="roster_removal"} 2',
        'bookings_cancelled_total{reason="other"} 1',
        'bookings_reinstated_total 1',
        'bookings_not_reinstated_total{reason="slot_taken"} 1',
        'bookings_cancellations_held_total 1',
        'bookings_cancellations_released_total{reason="person_restored"} 1',
        'bookings_cancellations_released_total{reason="event_finished"} 0',
      ]),
    );
  });

  it('counts nothing when the publish fails (it is retried and counted when it goes through)', async () => {
    const metrics = createMetrics({ service: 'bookings', collectDefault: false });
    const publisher = countingPublisher(
      {
        publish: async () => {
          throw new Error('broker away');
        },
      },
      metrics,
    );
    await expect(publisher.publish([event(bookingCancelledV1.type, 'roster_removal')])).rejects.toThrow(
      'broker away',
    );
    expect(await lines(metrics)).toContain('bookings_cancelled_total{reason="roster_removal"} 0');
  });
});
