import type { CloudEvent } from '@isams-sync/events';
import type { EventProducer } from '@isams-sync/kafka';
import type { BookingEventPublisher } from '../../domain/booking-event-publisher.port';

/** Publishes booking events to `bookings.events.v1` (key = tenant id), awaiting acks=all. */
export function kafkaBookingEventPublisher(producer: EventProducer, topic: string): BookingEventPublisher {
  return {
    async publish(events: readonly CloudEvent[]): Promise<void> {
      if (events.length > 0) await producer.publish(topic, events);
    },
  };
}
