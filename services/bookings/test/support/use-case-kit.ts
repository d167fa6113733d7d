import type { CloudEvent } from '@isams-sync/events';
import { createTestDatabase } from '@isams-sync/testing';
import { MongoBookingsStore } from '../../src/adapters/mongo/bookings.store';
import type { BookingsStore } from '../../src/use-cases/ports';
import type { BookableEvent, EventKind } from '../../src/domain/booking-model';
import { createBookingsUseCases } from '../../src/use-cases/bookings.use-cases';
import type { BookingsUseCases } from '../../src/use-cases/bookings.use-cases';

// The use-cases straight over a store (no gRPC, no Kafka): for the tests that seed a school's events
// and bookings, then drive the roster change handler and look at the store.

/** A store on a fresh test database named after `name`; `drop` removes the database. */
export async function testStore(name: string): Promise<{ store: BookingsStore; drop: () => Promise<void> }> {
  const db = await createTestDatabase(name);
  return { store: await MongoBookingsStore.create(db.db), drop: () => db.drop() };
}

/** The use-cases over `store` for seeding: published events are dropped, every person exists. */
export function seedingUseCases(store: BookingsStore): BookingsUseCases {
  return createBookingsUseCases({
    store,
    publisher: { publish: () => Promise.resolve() },
    roster: { personExists: () => Promise.resolve(true) },
  });
}

/** Creates an open event from `startsAt`, `durationMs` long. */
export function createOpenEvent(
  uc: BookingsUseCases,
  tenantId: string,
  event: { id: string; kind: EventKind; title: string; startsAt: Date; durationMs: number },
): Promise<BookableEvent> {
  const { durationMs, ...rest } = event;
  return uc.createEvent(tenantId, {
    ...rest,
    endsAt: new Date(event.startsAt.getTime() + durationMs),
    status: 'open',
  });
}

/**
 * A publisher that keeps what it is given; the first `failures` publishes fail before sending
 * anything (a broker down, a crash after the effects and before the marker), and so does the next
 * one after `failOnce()`.
 */
export function flakyPublisher(failures = 0) {
  const sent: CloudEvent[] = [];
  let left = failures;
  return {
    sent,
    failOnce() {
      left = Math.max(left, 1);
    },
    publish(events: readonly CloudEvent[]) {
      if (left > 0) {
        left -= 1;
        return Promise.reject(new Error('broker down'));
      }
      sent.push(...events);
      return Promise.resolve();
    },
  };
}
