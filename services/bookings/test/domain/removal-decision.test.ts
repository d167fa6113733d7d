import { describe, expect, it } from 'vitest';
import {
  decideReinstatement,
  decideRemoval,
  decideRemovals,
  isLiveEvening,
  remainingHoldCauses,
} from '../../src/domain/removal-decision';
import type { RestoreInput } from '../../src/domain/removal-decision';
import { NOW, booking, event } from './fixtures';

const events = new Map([
  ['e1', event('e1')],
  [
    'done',
    event('done', {
      status: 'finished',
      startsAt: new Date('2026-03-01T16:00:00Z'),
      endsAt: new Date('2026-03-01T20:00:00Z'),
    }),
  ],
  ['live', event('live', { status: 'live' })],
  [
    'today',
    event('today', {
      status: 'open',
      startsAt: new Date('2026-03-10T16:00:00Z'),
      endsAt: new Date('2026-03-10T19:00:00Z'),
    }),
  ],
]);
const ids = (bs: Array<{ id: string }>) => bs.map((b) => b.id).sort();

describe('decideRemoval', () => {
  const bookings = [
    booking('b1'),
    booking('b2', { pupilId: 'p2', contactId: 'c2' }),
    booking('old', { eventId: 'done' }),
    booking('lv', { eventId: 'live' }),
    booking('td', { eventId: 'today' }),
    booking('gone', { status: 'cancelled', cancellation: { reason: 'user_cancelled', at: NOW } }),
  ];

  it('cancels a removed pupil’s bookings in unfinished events, holds live-today ones, leaves finished ones', () => {
    const d = decideRemoval(
      { kind: 'pupil', personId: 'p1', reason: 'absent_from_feed', rosterEventId: 'r1' },
      bookings,
      events,
      NOW,
    );
    expect(ids(d.cancel)).toEqual(['b1']);
    expect(ids(d.hold)).toEqual(['lv', 'td']);
    expect(d.untouched.map((u) => [u.booking.id, u.why])).toEqual([
      ['old', 'event_finished'],
      ['gone', 'already_cancelled'],
    ]);
  });

  it('matches teachers by staffId and contacts by contactId', () => {
    expect(
      ids(
        decideRemoval(
          { kind: 'staff', personId: 't1', reason: 'absent_from_feed', rosterEventId: 'r' },
          bookings,
          events,
          NOW,
        ).cancel,
      ),
    ).toEqual(['b1', 'b2']);
    expect(
      ids(
        decideRemoval(
          { kind: 'contact', personId: 'c2', reason: 'absent_from_feed', rosterEventId: 'r' },
          bookings,
          events,
          NOW,
        ).cancel,
      ),
    ).toEqual(['b2']);
    expect(
      decideRemoval(
        { kind: 'contact', personId: 'p1', reason: 'absent_from_feed', rosterEventId: 'r' },
        bookings,
        events,
        NOW,
      ).cancel,
    ).toEqual([]);
  });

  it('cancels live-event bookings (also pending ones) when the removal is an approved held batch', () => {
    const pending = booking('lv', { eventId: 'live', pendingCancellation: { causes: [] } });
    const d = decideRemoval(
      { kind: 'pupil', personId: 'p1', reason: 'approved_held_batch', rosterEventId: 'r1' },
      [bookings[0]!, pending, bookings[2]!],
      events,
      NOW,
    );
    expect(ids(d.cancel)).toEqual(['b1', 'lv']);
    expect(d.hold).toEqual([]);
  });

  it('re-publishes bookings that this same roster event already cancelled (crash re-run)', () => {
    const done = booking('b1', {
      status: 'cancelled',
      cancellation: {
        reason: 'roster_removal',
        at: NOW,
        roster: { rosterEventId: 'r1', personKind: 'pupil', personId: 'p1', at: NOW },
      },
    });
    const d = decideRemoval(
      { kind: 'pupil', personId: 'p1', reason: 'absent_from_feed', rosterEventId: 'r1' },
      [done],
      events,
      NOW,
    );
    expect(ids(d.republish)).toEqual(['b1']);
    expect(d.cancel).toEqual([]);
    const other = decideRemoval(
      { kind: 'pupil', personId: 'p1', reason: 'absent_from_feed', rosterEventId: 'r2' },
      [done],
      events,
      NOW,
    );
    expect(other.republish).toEqual([]);
  });

  it('leaves bookings of evenings that have ended by the school’s calendar (not set to finished) alone', () => {
    const ended = new Map([
      // marked live, 7 days ago; open, 30 days ago: their day has passed
      [
        'lastweek',
        event('lastweek', {
          status: 'live',
          startsAt: new Date('2026-03-03T16:00:00Z'),
          endsAt: new Date('2026-03-03T20:00:00Z'),
        }),
      ],
      [
        'lastmonth',
        event('lastmonth', {
          startsAt: new Date('2026-02-08T16:00:00Z'),
          endsAt: new Date('2026-02-08T20:00:00Z'),
        }),
      ],
    ]);
    const d = decideRemoval(
      { kind: 'pupil', personId: 'p1', reason: 'approved_held_batch', rosterEventId: 'r1' },
      [booking('w', { eventId: 'lastweek' }), booking('m', { eventId: 'lastmonth' })],
      ended,
      NOW,
      'UTC',
    );
    expect(d.cancel).toEqual([]);
    expect(d.hold).toEqual([]);
    expect(d.untouched.map((u) => [u.booking.id, u.why])).toEqual([
      ['w', 'event_finished'],
      ['m', 'event_finished'],
    ]);
  });

  it('treats live status and events taking place today (in the given time zone) as live, finished never', () => {
    expect(isLiveEvening(event('x', { status: 'live' }), NOW, 'UTC')).toBe(true);
    expect(isLiveEvening(events.get('today')!, NOW, 'UTC')).toBe(true);
    expect(isLiveEvening(events.get('e1')!, NOW, 'UTC')).toBe(false);
    expect(isLiveEvening({ ...events.get('today')!, status: 'finished' }, NOW, 'UTC')).toBe(false);
  });
});

describe('decideRemoval after a replica stalled', () => {
  it('leaves alone what this very removal cancelled or held and a later restore reinstated or released (a stalled replica)', () => {
    const r1 = { rosterEventId: 'r1', personKind: 'pupil' as const, personId: 'p1', at: NOW };
    const reinstated = booking('b1', {
      cancellation: { reason: 'roster_removal', at: NOW, roster: r1 },
      reinstatement: { at: NOW, rosterEventId: 'y1', outcome: 'reinstated' },
    });
    const released = booking('lv', {
      eventId: 'live',
      history: [
        { at: NOW, action: 'cancellation_held', reason: 'absent_from_feed', rosterEventId: 'r1' },
        { at: NOW, action: 'hold_cleared', rosterEventId: 'y1' },
      ],
    });
    const stillHeld = booking('td', {
      eventId: 'today',
      pendingCancellation: { causes: [r1] },
      history: [{ at: NOW, action: 'cancellation_held', reason: 'absent_from_feed', rosterEventId: 'r1' }],
    });
    const removal = { kind: 'pupil' as const, personId: 'p1', reason: 'absent_from_feed' as const };
    const d = decideRemoval(
      { ...removal, rosterEventId: 'r1' },
      [reinstated, released, stillHeld],
      events,
      NOW,
    );
    expect(d.cancel).toEqual([]);
    expect(ids(d.hold)).toEqual(['td']);
    expect(d.untouched.map((u) => [u.booking.id, u.why])).toEqual([
      ['b1', 'undone_since'],
      ['lv', 'undone_since'],
    ]);
    const later = decideRemoval({ ...removal, rosterEventId: 'r2' }, [reinstated, released], events, NOW);
    expect(ids(later.cancel)).toEqual(['b1']);
    expect(ids(later.hold)).toEqual(['lv']);
  });
});

describe('decideReinstatement', () => {
  const graceUntil = new Date('2026-03-24T00:00:00Z');
  const cancelled = booking('b1', {
    status: 'cancelled',
    cancellation: {
      reason: 'roster_removal',
      at: NOW,
      graceUntil,
      roster: { rosterEventId: 'r1', personKind: 'pupil', personId: 'p1', at: NOW },
    },
  });
  const restore: RestoreInput = {
    kind: 'pupil',
    personId: 'p1',
    rosterEventId: 'r2',
    at: new Date('2026-03-11T09:00:00Z'),
  };
  const ctx = {
    event: event('e1'),
    activeInSlot: [],
    slotCapacity: 1,
    teacherActive: [],
    removedPeople: new Set<string>(),
    now: NOW,
    timeZone: 'UTC',
  };

  it('reinstates into the original place when it is free', () => {
    expect(decideReinstatement(cancelled, restore, ctx)).toEqual({ outcome: 'reinstate', seat: 0 });
  });

  it('says why not: slot taken, teacher busy, event finished, grace expired, another person still removed', () => {
    expect(
      decideReinstatement(cancelled, restore, { ...ctx, activeInSlot: [booking('new', { pupilId: 'p5' })] })
        .outcome,
    ).toBe('slot_taken');
    const busy = booking('x', { slotId: 's9', eventId: 'e2', pupilId: 'p5' });
    expect(decideReinstatement(cancelled, restore, { ...ctx, teacherActive: [busy] }).outcome).toBe(
      'teacher_busy',
    );
    expect(
      decideReinstatement(cancelled, restore, { ...ctx, event: event('e1', { status: 'finished' }) }).outcome,
    ).toBe('event_finished');
    // Its day has passed on the school's calendar (still marked live: nobody finished it).
    expect(
      decideReinstatement(cancelled, restore, {
        ...ctx,
        event: event('e1', { status: 'live' }),
        now: new Date('2026-03-21T09:00:00Z'),
      }).outcome,
    ).toBe('event_finished');
    expect(
      decideReinstatement(cancelled, { ...restore, at: new Date('2026-03-25T00:00:00Z') }, ctx).outcome,
    ).toBe('grace_expired');
    expect(
      decideReinstatement(cancelled, restore, { ...ctx, removedPeople: new Set(['staff:t1']) }).outcome,
    ).toBe('other_person_removed');
    // The restored person themselves being listed as removed (state not yet updated) does not block.
    expect(
      decideReinstatement(cancelled, restore, { ...ctx, removedPeople: new Set(['pupil:p1']) }).outcome,
    ).toBe('reinstate');
  });

  it('hands out another free place of a group slot', () => {
    const group = { ...cancelled, slotId: 's1' };
    expect(
      decideReinstatement(group, restore, {
        ...ctx,
        slotCapacity: 3,
        activeInSlot: [booking('n', { seat: 0, pupilId: 'p5' })],
      }),
    ).toEqual({ outcome: 'reinstate', seat: 1 });
  });
});

describe('remainingHoldCauses', () => {
  it('drops only the restored person’s cause', () => {
    const b = booking('b1', {
      pendingCancellation: {
        causes: [
          { rosterEventId: 'r1', personKind: 'pupil', personId: 'p1', at: NOW },
          { rosterEventId: 'r2', personKind: 'staff', personId: 't1', at: NOW },
        ],
      },
    });
    expect(remainingHoldCauses(b, { kind: 'pupil', personId: 'p1' }).map((c) => c.rosterEventId)).toEqual([
      'r2',
    ]);
    expect(remainingHoldCauses(b, { kind: 'contact', personId: 'c1' })).toHaveLength(2);
  });
});

describe('decideRemovals (a batch, decided in order)', () => {
  const cause = (id: string, kind: 'pupil' | 'contact', personId: string) => ({
    rosterEventId: id,
    personKind: kind,
    personId,
    at: NOW,
  });
  const removal = (
    id: string,
    kind: 'pupil' | 'contact',
    personId: string,
    reason: 'absent_from_feed' | 'approved_held_batch' = 'absent_from_feed',
  ) => ({ kind, personId, reason, rosterEventId: id, cause: cause(id, kind, personId) });

  it('equals decideRemoval for removals of people with no booking in common', () => {
    const bookings = [
      booking('b1'),
      booking('b2', { pupilId: 'p2', contactId: 'c2' }),
      booking('x', { pupilId: 'p9', contactId: 'c9' }),
    ];
    const [d1, d2] = decideRemovals(
      [removal('r1', 'pupil', 'p1'), removal('r2', 'pupil', 'p2')],
      bookings,
      events,
      NOW,
    );
    expect(ids(d1!.cancel)).toEqual(['b1']);
    expect(ids(d2!.cancel)).toEqual(['b2']);
  });

  it('cancels a booking naming two removed people once, by the first removal; the second finds it cancelled', () => {
    const [byPupil, byContact] = decideRemovals(
      [removal('r1', 'pupil', 'p1'), removal('r2', 'contact', 'c1')],
      [booking('b1')],
      events,
      NOW,
    );
    expect(ids(byPupil!.cancel)).toEqual(['b1']);
    expect(byContact!.cancel).toEqual([]);
    expect(byContact!.untouched.map((u) => [u.booking.id, u.why])).toEqual([['b1', 'already_cancelled']]);
  });

  it('in a live evening: the second removal holding a booking sees the first one’s hold (causes add up)', () => {
    const [first, second] = decideRemovals(
      [removal('r1', 'pupil', 'p1'), removal('r2', 'contact', 'c1')],
      [booking('lv', { eventId: 'live' })],
      events,
      NOW,
    );
    expect(ids(first!.hold)).toEqual(['lv']);
    expect(second!.hold.map((b) => b.pendingCancellation?.causes.map((c) => c.rosterEventId))).toEqual([
      ['r1'],
    ]);
  });

  it('an approved removal after a held one in the same batch cancels the held booking', () => {
    const [held, approved] = decideRemovals(
      [removal('r1', 'pupil', 'p1'), removal('r2', 'contact', 'c1', 'approved_held_batch')],
      [booking('lv', { eventId: 'live' })],
      events,
      NOW,
    );
    expect(ids(held!.hold)).toEqual(['lv']);
    expect(ids(approved!.cancel)).toEqual(['lv']);
  });

  it('a re-run (the booking already cancelled by this removal) republishes instead of cancelling', () => {
    const done = booking('b1', {
      status: 'cancelled',
      cancellation: { reason: 'roster_removal', at: NOW, roster: cause('r1', 'pupil', 'p1') },
    });
    const [d] = decideRemovals([removal('r1', 'pupil', 'p1')], [done], events, NOW);
    expect(ids(d!.republish)).toEqual(['b1']);
    expect(d!.cancel).toEqual([]);
  });
});

describe('decideRemoval on a crash re-run', () => {
  it('re-publishes the hold of a booking this removal held that was cancelled since (a crash re-run)', () => {
    const cancelledSince = booking('lv', {
      eventId: 'live',
      status: 'cancelled',
      cancellation: {
        reason: 'roster_removal_approved',
        at: NOW,
        roster: { rosterEventId: 't2', personKind: 'staff', personId: 't1', at: NOW },
      },
      history: [
        { at: NOW, action: 'booked' },
        { at: NOW, action: 'cancellation_held', reason: 'absent_from_feed', rosterEventId: 'r1' },
        { at: NOW, action: 'cancelled', reason: 'roster_removal_approved', rosterEventId: 't2' },
      ],
    });
    const removal = {
      kind: 'pupil',
      personId: 'p1',
      reason: 'absent_from_feed',
      rosterEventId: 'r1',
    } as const;
    const d = decideRemoval(removal, [cancelledSince], events, NOW);
    expect(ids(d.republishHeld)).toEqual(['lv']);
    expect([d.cancel, d.hold, d.republish, d.untouched]).toEqual([[], [], [], []]);
    // Another removal of the same pupil did not hold it: already cancelled, nothing to publish.
    const other = decideRemoval({ ...removal, rosterEventId: 'r9' }, [cancelledSince], events, NOW);
    expect(other.republishHeld).toEqual([]);
    expect(other.untouched.map((u) => u.why)).toEqual(['already_cancelled']);
  });
});
