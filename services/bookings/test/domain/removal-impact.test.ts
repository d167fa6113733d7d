import { describe, expect, it } from 'vitest';
import type { Booking } from '../../src/domain/booking-model';
import { decideRemoval } from '../../src/domain/removal-decision';
import { previewRemovalImpact } from '../../src/domain/removal-impact';
import { isStaleChange } from '../../src/domain/roster-ordering';
import { NOW, booking, event } from './fixtures';

const events = new Map([
  ['e1', event('e1')],
  [
    'e2',
    event('e2', { startsAt: new Date('2026-03-25T16:00:00Z'), endsAt: new Date('2026-03-25T20:00:00Z') }),
  ],
  ['done', event('done', { status: 'finished' })],
  ['live', event('live', { status: 'live' })],
]);
const bookings: Booking[] = [
  booking('a', { pupilId: 'p1', contactId: 'c1', staffId: 't1' }),
  booking('b', { pupilId: 'p2', contactId: 'c2', staffId: 't1', slotId: 's2' }),
  booking('c', { pupilId: 'p1', contactId: 'c1', staffId: 't2', eventId: 'e2' }),
  booking('d', { pupilId: 'p3', contactId: 'c3', staffId: 't1', eventId: 'done' }),
  booking('e', { pupilId: 'p4', contactId: 'c4', staffId: 't1', eventId: 'live' }),
];

describe('previewRemovalImpact', () => {
  it('groups by event with families counted once per contact, and skips finished events', () => {
    const impact = previewRemovalImpact(
      [
        { kind: 'staff', personId: 't1' },
        { kind: 'pupil', personId: 'p1' },
      ],
      'absent_from_feed',
      bookings,
      events,
      NOW,
    );
    expect(
      impact.events.map((g) => [
        g.event.id,
        g.cancel.map((b) => b.id),
        g.hold.map((b) => b.id),
        g.familiesAffected,
      ]),
    ).toEqual([
      ['e1', ['a', 'b'], [], 2],
      ['live', [], ['e'], 1],
      ['e2', ['c'], [], 1],
    ]);
    expect(impact).toMatchObject({ totalCancel: 3, totalHold: 1, familiesAffected: 3 });
  });

  it('counts live-event bookings as cancellations when previewing a held batch approval', () => {
    const impact = previewRemovalImpact(
      [{ kind: 'staff', personId: 't1' }],
      'approved_held_batch',
      bookings,
      events,
      NOW,
    );
    expect(impact.totalCancel).toBe(3);
    expect(impact.totalHold).toBe(0);
  });

  it('equals applying decideRemoval for each removal in turn (the consumer’s path)', () => {
    const removals = [
      { kind: 'pupil' as const, personId: 'p1' },
      { kind: 'staff' as const, personId: 't1' },
      { kind: 'contact' as const, personId: 'c4' },
    ];
    const impact = previewRemovalImpact(removals, 'absent_from_feed', bookings, events, NOW);
    let state = bookings;
    const cancelled = new Set<string>();
    const held = new Set<string>();
    for (const r of removals) {
      const d = decideRemoval(
        { ...r, reason: 'absent_from_feed', rosterEventId: `ev-${r.personId}` },
        state,
        events,
        NOW,
      );
      d.cancel.forEach((b) => cancelled.add(b.id));
      d.hold.forEach((b) => held.add(b.id));
      state = state.map((b) => (cancelled.has(b.id) ? { ...b, status: 'cancelled' as const } : b));
    }
    expect(impact.events.flatMap((g) => g.cancel.map((b) => b.id)).sort()).toEqual([...cancelled].sort());
    expect(impact.events.flatMap((g) => g.hold.map((b) => b.id)).sort()).toEqual([...held].sort());
  });

  it('returns nothing for people without bookings', () => {
    expect(
      previewRemovalImpact(
        [{ kind: 'pupil', personId: 'nobody' }],
        'absent_from_feed',
        bookings,
        events,
        NOW,
      ),
    ).toEqual({
      events: [],
      totalCancel: 0,
      totalHold: 0,
      familiesAffected: 0,
    });
  });
});

describe('isStaleChange', () => {
  const state = {
    kind: 'pupil' as const,
    personId: 'p1',
    state: 'present' as const,
    changedAt: new Date('2026-03-10T10:00:00Z'),
    rosterEventId: 'm',
  };
  const change = (at: string, rosterEventId: string, revision?: { changeset: number; change: number }) => ({
    changedAt: new Date(at),
    rosterEventId,
    ...(revision ? { revision } : {}),
  });
  it('is stale when older than the applied change; ties are decided by event id', () => {
    expect(isStaleChange(undefined, change('2026-03-10T10:00:00Z', 'x'))).toBe(false);
    expect(isStaleChange(state, change('2026-03-10T09:00:00Z', 'z'))).toBe(true);
    expect(isStaleChange(state, change('2026-03-10T11:00:00Z', 'a'))).toBe(false);
    expect(isStaleChange(state, change('2026-03-10T10:00:00Z', 'a'))).toBe(true);
    expect(isStaleChange(state, change('2026-03-10T10:00:00Z', 'm'))).toBe(false);
  });
  it('orders by revision, whatever the times, when both have one; by time when either has none', () => {
    const applied = { ...state, revision: { changeset: 4, change: 2 } };
    const rev = (changeset: number, position: number) => ({ changeset, change: position });
    const cases: Array<[typeof state, ReturnType<typeof change>, boolean]> = [
      [applied, change('2026-03-10T11:00:00Z', 'z', rev(4, 1)), true],
      [applied, change('2026-03-10T11:00:00Z', 'z', rev(3, 9)), true],
      [applied, change('2026-03-10T09:00:00Z', 'a', rev(4, 3)), false],
      [applied, change('2026-03-10T09:00:00Z', 'a', rev(5, 0)), false],
      [applied, change('2026-03-10T09:00:00Z', 'a', rev(4, 2)), true],
      [applied, change('2026-03-10T09:00:00Z', 'm', rev(4, 2)), false],
      // Mixed: the applied change or the new one from before revisions existed.
      [applied, change('2026-03-10T09:00:00Z', 'z'), true],
      [state, change('2026-03-10T09:00:00Z', 'z', rev(9, 0)), true],
      [state, change('2026-03-10T11:00:00Z', 'a', rev(1, 0)), false],
    ];
    for (const [current, next, stale] of cases) expect(isStaleChange(current, next)).toBe(stale);
  });
});
