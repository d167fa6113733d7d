import type { BookableEvent, Booking, Slot } from '../../src/domain/booking-model';

export const NOW = new Date('2026-03-10T09:00:00Z');

export function event(id: string, over: Partial<BookableEvent> = {}): BookableEvent {
  return {
    id,
    kind: 'parents_evening',
    title: `Evening ${id}`,
    startsAt: new Date('2026-03-20T16:00:00Z'),
    endsAt: new Date('2026-03-20T20:00:00Z'),
    status: 'open',
    createdAt: NOW,
    updatedAt: NOW,
    ...over,
  };
}

export function slot(id: string, over: Partial<Slot> = {}): Slot {
  return {
    id,
    eventId: 'e1',
    startsAt: new Date('2026-03-20T16:00:00Z'),
    endsAt: new Date('2026-03-20T16:05:00Z'),
    capacity: 1,
    ...over,
  };
}

export function booking(id: string, over: Partial<Booking> = {}): Booking {
  return {
    id,
    eventId: 'e1',
    slotId: 's1',
    staffId: 't1',
    pupilId: 'p1',
    contactId: 'c1',
    startsAt: new Date('2026-03-20T16:00:00Z'),
    endsAt: new Date('2026-03-20T16:05:00Z'),
    seat: 0,
    status: 'booked',
    createdAt: NOW,
    history: [],
    ...over,
  };
}
