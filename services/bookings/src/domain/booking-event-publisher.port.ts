import type { CloudEvent } from '@isams-sync/events';

/**
 * Publishes booking outcome events (awaited, acks=all). Implemented over Kafka
 * (adapters/kafka/booking-events.publisher.ts), counted by adapters/kafka/counting.publisher.ts.
 */
export interface BookingEventPublisher {
  publish(events: readonly CloudEvent[]): Promise<void>;
}
