import { describe, expect, it } from 'vitest';
import type { CloudEvent, RosterChangeData } from '@isams-sync/events';
import type { Booking, RosterCause } from '../../src/domain/booking-model';
import {
  byCancellingEvent,
  cancellationsOf,
  claimOutcome,
  concernsBookings,
  holdRelease,
  holdsToWrite,
  indexesBySchool,
  peopleOf,
  planBatch,
  removalEvents,
  removalOf,
  removedState,
  restoreOf,
  reconsiderStepOf,
  restoreStepOf,
  sortRemovals,
} from '../../src/domain/roster-change-plan';
import type { PersonRosterState } from '../../src/domain/roster-ordering';
import { NOW, booking } from './fixtures';

const T0 = '2026-03-10T08:00:00.000Z';

/** A roster change event as the consumer sees it after validation (only the fields bookings reads). */
function change(
  id: string,
  over: {
    tenant?: string;
    entityType?: RosterChangeData['entityType'];
    entityId?: string;
    change?: RosterChangeData['change'];
    time?: string;
    removal?: RosterChangeData['removal'];
  } = {},
): CloudEvent<RosterChangeData> {
  return {
    specversion: '1.0',
    id,
    source: '/isams-sync/roster',
    type: `roster.${over.entityType ?? 'pupil'}.${over.change ?? 'removed'}`,
    time: over.time ?? T0,
    datacontenttype: 'application/json',
    tenantid: over.tenant ?? 'school-a',
    data: {
      syncRunId: 'run-1',
      entityType: over.entityType ?? 'pupil',
      entityId: over.entityId ?? 'p1',
      change: over.change ?? 'removed',
      ...(over.removal ? { removal: over.removal } : {}),
    },
  } as CloudEvent<RosterChangeData>;
}

const cause = (rosterEventId: string, personId = 'p1', over: Partial<RosterCause> = {}): RosterCause => ({
  rosterEventId,
  personKind: 'pupil',
  personId,
  at: new Date(T0),
  ...over,
});

describe('concernsBookings', () => {
  it('is true for pupils, staff and contacts removed or restored, and for nothing else', () => {
    for (const entityType of ['pupil', 'staff', 'contact'] as const)
      for (const c of ['removed', 'restored'] as const)
        expect(concernsBookings({ entityType, change: c })).toBe(true);
    expect(concernsBookings({ entityType: 'pupil', change: 'added' })).toBe(false);
    expect(concernsBookings({ entityType: 'pupil', change: 'updated' })).toBe(false);
    expect(concernsBookings({ entityType: 'form', change: 'removed' })).toBe(false);
    expect(concernsBookings({ entityType: 'teachingSet', change: 'restored' })).toBe(false);
  });
});

describe('planBatch (a Kafka batch cut into steps, same outcome as one by one)', () => {
  it('applies consecutive removals of distinct people as one group; events bookings ignores are in no step', () => {
    const steps = planBatch([
      change('r1', { entityId: 'p1' }),
      change('u1', { entityId: 'p2', change: 'updated' }),
      change('r2', { entityType: 'staff', entityId: 't1' }),
      change('f1', { entityType: 'form', entityId: 'f1' }),
      change('r3', { entityType: 'contact', entityId: 'c1' }),
    ]);
    expect(steps).toEqual([{ apply: 'removals', indexes: [0, 2, 4] }]);
  });

  it('applies a restored alone, in its place, between the groups before and after it', () => {
    const steps = planBatch([
      change('r1', { entityId: 'p1' }),
      change('s1', { entityId: 'p2', change: 'restored' }),
      change('r2', { entityId: 'p3' }),
    ]);
    expect(steps).toEqual([
      { apply: 'removals', indexes: [0] },
      { apply: 'alone', index: 1 },
      { apply: 'removals', indexes: [2] },
    ]);
  });

  it('starts a new group when a person is removed twice; the same id at another school or of another kind does not', () => {
    const steps = planBatch([
      change('r1', { entityId: 'x' }),
      change('r2', { entityId: 'x', tenant: 'school-b' }),
      change('r3', { entityId: 'x', entityType: 'staff' }),
      change('r4', { entityId: 'x' }),
    ]);
    expect(steps).toEqual([
      { apply: 'removals', indexes: [0, 1, 2] },
      { apply: 'removals', indexes: [3] },
    ]);
  });

  it('has no step for a batch of nothing bookings acts on', () => {
    expect(planBatch([change('a', { change: 'added' }), change('f', { entityType: 'subject' })])).toEqual([]);
  });
});

describe('indexesBySchool', () => {
  it('keeps the positions of each school’s events in order', () => {
    expect([...indexesBySchool([{ tenantid: 'a' }, { tenantid: 'b' }, { tenantid: 'a' }])]).toEqual([
      ['a', [0, 2]],
      ['b', [1]],
    ]);
  });
});

describe('removalOf / restoreOf', () => {
  it('reads a removal’s reason, grace deadline and held batch into the removal and its cause', () => {
    const r = removalOf(
      change('r1', {
        entityType: 'staff',
        entityId: 't1',
        removal: {
          reason: 'approved_held_batch',
          graceUntil: '2026-04-10T08:00:00.000Z',
          heldBatchId: 'hb-1',
        },
      }),
    );
    expect(r).toEqual({
      kind: 'staff',
      personId: 't1',
      reason: 'approved_held_batch',
      rosterEventId: 'r1',
      graceUntil: new Date('2026-04-10T08:00:00.000Z'),
      cause: {
        rosterEventId: 'r1',
        personKind: 'staff',
        personId: 't1',
        at: new Date(T0),
        syncRunId: 'run-1',
        heldBatchId: 'hb-1',
      },
    });
  });

  it('a removal without details is `absent_from_feed` with no grace deadline (no reinstatement)', () => {
    const r = removalOf(change('r1'));
    expect(r.reason).toBe('absent_from_feed');
    expect('graceUntil' in r).toBe(false);
    expect('heldBatchId' in r.cause).toBe(false);
    expect(removedState(r)).toEqual({
      kind: 'pupil',
      personId: 'p1',
      state: 'removed',
      changedAt: new Date(T0),
      rosterEventId: 'r1',
    });
  });

  it('a restore is of the event’s person, at the event’s time', () => {
    expect(restoreOf(change('s1', { entityType: 'contact', entityId: 'c9', change: 'restored' }))).toEqual({
      restore: { kind: 'contact', personId: 'c9', rosterEventId: 's1', at: new Date(T0) },
      cause: {
        rosterEventId: 's1',
        personKind: 'contact',
        personId: 'c9',
        at: new Date(T0),
        syncRunId: 'run-1',
      },
    });
  });
});

describe('sortRemovals (one school’s removals before anything is written)', () => {
  const state = (personId: string, changedAt: string, rosterEventId: string): [string, PersonRosterState] => [
    `pupil:${personId}`,
    { kind: 'pupil', personId, state: 'present', changedAt: new Date(changedAt), rosterEventId },
  ];

  it('already processed → duplicate; older than the applied state → stale; the others are applied, in order', () => {
    const events = [
      change('dup', { entityId: 'p1' }),
      change('old', { entityId: 'p2', time: '2026-03-10T07:00:00.000Z' }),
      change('new', { entityId: 'p3', time: '2026-03-10T09:00:00.000Z' }),
      change('first', { entityId: 'p4' }),
    ];
    const states = new Map([
      state('p2', '2026-03-10T07:30:00.000Z', 'x'),
      state('p3', '2026-03-10T08:30:00.000Z', 'y'),
    ]);
    const { outcomes, removals } = sortRemovals(events, new Set(['dup']), states);
    expect([...outcomes].map(([id, o]) => [id, o.status])).toEqual([
      ['dup', 'duplicate'],
      ['old', 'stale'],
    ]);
    expect(outcomes.get('old')).toEqual({
      status: 'stale',
      cancelled: 0,
      held: 0,
      reinstated: 0,
      notReinstated: 0,
    });
    expect(removals.map((r) => [r.event.id, r.removal.personId])).toEqual([
      ['new', 'p3'],
      ['first', 'p4'],
    ]);
  });

  it('at the same time as the applied change, the larger event id wins (arrival order does not matter)', () => {
    const states = new Map([state('p1', T0, 'm')]);
    expect(sortRemovals([change('a', { entityId: 'p1' })], new Set(), states).outcomes.get('a')?.status).toBe(
      'stale',
    );
    expect(sortRemovals([change('z', { entityId: 'p1' })], new Set(), states).removals).toHaveLength(1);
  });
});

describe('what a batch of removals writes', () => {
  const r1 = removalOf(
    change('r1', { entityId: 'p1', removal: { reason: 'absent_from_feed', graceUntil: T0 } }),
  );
  const r2 = removalOf(
    change('r2', { entityId: 'p2', removal: { reason: 'approved_held_batch', graceUntil: T0 } }),
  );

  it('holds only the bookings this removal does not hold yet, adding its cause to the others', () => {
    const fresh = booking('b1');
    const heldByOther = booking('b2', { pendingCancellation: { causes: [cause('r0', 'c1')] } });
    const heldByMe = booking('b3', { pendingCancellation: { causes: [cause('r1')] } });
    const holds = holdsToWrite(r1, { hold: [fresh, heldByOther, heldByMe] });
    expect(holds.map((h) => [h.booking.id, h.causes.map((c) => c.rosterEventId)])).toEqual([
      ['b1', ['r1']],
      ['b2', ['r0', 'r1']],
    ]);
    expect(holds[0]!.entry).toEqual({
      at: new Date(T0),
      action: 'cancellation_held',
      reason: 'absent_from_feed',
      rosterEventId: 'r1',
    });
  });

  it('pairs each cancelled booking with its own removal’s cancellation and history entry', () => {
    const items = cancellationsOf(
      [r1, r2],
      [
        { cancel: [booking('b1')], hold: [], republish: [], republishHeld: [], untouched: [] },
        { cancel: [booking('b2'), booking('b3')], hold: [], republish: [], republishHeld: [], untouched: [] },
      ],
    );
    expect(
      items.map((i) => [i.booking.id, i.cancellation.roster?.rosterEventId, i.cancellation.reason]),
    ).toEqual([
      ['b1', 'r1', 'roster_removal'],
      ['b2', 'r2', 'roster_removal_approved'],
      ['b3', 'r2', 'roster_removal_approved'],
    ]);
    expect(items[0]!.cancellation.graceUntil).toEqual(new Date(T0));
    expect(items[1]!.entry).toEqual({
      at: new Date(T0),
      action: 'cancelled',
      reason: 'roster_removal_approved',
      rosterEventId: 'r2',
    });
  });

  it('groups what the bulk write cancelled by the removal that cancelled it', () => {
    const cancelledBy = (id: string, rosterEventId: string): Booking =>
      booking(id, {
        status: 'cancelled',
        cancellation: { reason: 'roster_removal', at: NOW, roster: cause(rosterEventId) },
      });
    const by = byCancellingEvent([cancelledBy('b1', 'r1'), cancelledBy('b2', 'r2'), cancelledBy('b3', 'r1')]);
    expect([...by].map(([id, bs]) => [id, bs.map((b) => b.id)])).toEqual([
      ['r1', ['b1', 'b3']],
      ['r2', ['b2']],
    ]);
  });

  it('publishes a removal’s re-published cancellations, then its new ones, then its holds — with ids stable across re-runs', () => {
    const cancelled = booking('c1', {
      status: 'cancelled',
      cancellation: { reason: 'roster_removal', at: new Date(T0), roster: r1.cause },
    });
    const before = booking('c0', {
      status: 'cancelled',
      cancellation: { reason: 'roster_removal', at: new Date(T0), roster: r1.cause },
    });
    const held = booking('h1');
    const events = removalEvents('school-a', r1, { republish: [before], hold: [held], republishHeld: [] }, [
      cancelled,
    ]);
    expect(events.map((e) => [e.type.split('.').slice(-2)[0], e.subject])).toEqual([
      ['cancelled', 'c0'],
      ['cancelled', 'c1'],
      ['cancellation-held', 'h1'],
    ]);
    const again = removalEvents('school-a', r1, { republish: [before], hold: [held], republishHeld: [] }, [
      cancelled,
    ]);
    expect(again.map((e) => e.id)).toEqual(events.map((e) => e.id));
    expect(new Set(events.map((e) => e.id)).size).toBe(3);
  });
  it('re-publishes a hold cancelled since in the place of a hold, before its cancellation when it also cancelled it', () => {
    const heldThenCancelled = booking('h0', {
      status: 'cancelled',
      cancellation: { reason: 'roster_removal_approved', at: new Date(T0), roster: cause('r9') },
    });
    const endedByItsHold = booking('h2', {
      status: 'cancelled',
      cancellation: { reason: 'roster_removal', at: new Date(T0), roster: r1.cause },
    });
    const events = removalEvents(
      'school-a',
      r1,
      {
        republish: [endedByItsHold],
        hold: [booking('h1')],
        republishHeld: [heldThenCancelled, endedByItsHold],
      },
      [],
    );
    expect(events.map((e) => [e.type.split('.').slice(-2)[0], e.subject])).toEqual([
      ['cancellation-held', 'h2'],
      ['cancelled', 'h2'],
      ['cancellation-held', 'h1'],
      ['cancellation-held', 'h0'],
    ]);
    const [first] = removalEvents(
      'school-a',
      r1,
      { republish: [], hold: [booking('h0')], republishHeld: [] },
      [],
    );
    expect(events[3]!.id).toBe(first!.id);
  });
});

describe('what a restore does', () => {
  const restore = { kind: 'pupil' as const, personId: 'p1', rosterEventId: 'back1' };

  it('clears a hold only this person caused, narrows one other removals also hold, leaves the rest', () => {
    expect(holdRelease(booking('b', { pendingCancellation: { causes: [cause('r1')] } }), restore)).toEqual({
      release: 'clear',
    });
    const shared = booking('b', { pendingCancellation: { causes: [cause('r1'), cause('r2', 'p9')] } });
    expect(holdRelease(shared, restore)).toEqual({ release: 'narrow', causes: [cause('r2', 'p9')] });
    expect(holdRelease(booking('b'), restore)).toEqual({ release: 'none' });
    expect(
      holdRelease(booking('b', { pendingCancellation: { causes: [cause('r2', 'p9')] } }), restore),
    ).toEqual({ release: 'none' });
    expect(
      holdRelease(
        booking('b', { status: 'cancelled', pendingCancellation: { causes: [cause('r1')] } }),
        restore,
      ),
    ).toEqual({ release: 'none' });
  });

  it('publishes again the release of a hold this very restore cleared before (a re-run after a crash), not of one another cleared', () => {
    const cleared = (rosterEventId: string, over: Partial<Booking> = {}) =>
      booking('b', {
        history: [
          { at: NOW, action: 'booked' },
          { at: NOW, action: 'cancellation_held', rosterEventId: 'r1' },
          { at: NOW, action: 'hold_cleared', rosterEventId },
        ],
        ...over,
      });
    expect(holdRelease(cleared('back1'), restore)).toEqual({ release: 'republish' });
    // Cancelled since (an admin), or held again by another removal since: the release still happened.
    expect(holdRelease(cleared('back1', { status: 'cancelled' }), restore)).toEqual({ release: 'republish' });
    expect(
      holdRelease(cleared('back1', { pendingCancellation: { causes: [cause('r2', 'p9')] } }), restore),
    ).toEqual({ release: 'republish' });
    expect(holdRelease(cleared('back0'), restore)).toEqual({ release: 'none' });
  });

  const cancelledAt = new Date('2026-03-10T08:00:00Z');
  const cancelled = (over: Partial<Booking> = {}) =>
    booking('b', {
      status: 'cancelled',
      cancellation: { reason: 'roster_removal', at: cancelledAt, roster: cause('r1') },
      ...over,
    });

  it('re-publishes what this very restore did before a crash, skips what an earlier one decided, decides the rest', () => {
    expect(
      restoreStepOf(
        cancelled({
          status: 'booked',
          reinstatement: { at: NOW, rosterEventId: 's1', outcome: 'reinstated' },
        }),
        's1',
      ),
    ).toEqual({ step: 'republish_reinstated' });
    expect(
      restoreStepOf(
        cancelled({ reinstatement: { at: NOW, rosterEventId: 's1', outcome: 'slot_taken' } }),
        's1',
      ),
    ).toEqual({ step: 'republish_not_reinstated', reason: 'slot_taken' });
    expect(
      restoreStepOf(
        cancelled({ reinstatement: { at: NOW, rosterEventId: 's0', outcome: 'grace_expired' } }),
        's1',
      ),
    ).toEqual({ step: 'already_decided' });
    expect(restoreStepOf(cancelled(), 's1')).toEqual({ step: 'decide' });
  });

  it('decides again when the last attempt was before the booking’s current cancellation', () => {
    const earlier = new Date('2026-03-09T08:00:00Z');
    expect(
      restoreStepOf(
        cancelled({ reinstatement: { at: earlier, rosterEventId: 's0', outcome: 'reinstated' } }),
        's1',
      ),
    ).toEqual({ step: 'decide' });
    // Unless this very restore reinstated it and a newer removal cancelled it again (a replica that
    // stalled over this restore while another applied it and the person's next removal).
    expect(
      restoreStepOf(
        cancelled({ reinstatement: { at: earlier, rosterEventId: 's1', outcome: 'reinstated' } }),
        's1',
      ),
    ).toEqual({ step: 'already_decided' });
  });

  it('decides again a booking another person’s removal cancelled that was kept only because someone else was removed', () => {
    const contactBack = { kind: 'contact' as const, personId: 'c1', rosterEventId: 's2' };
    const kept = (over: Partial<Booking> = {}) =>
      cancelled({
        reinstatement: { at: NOW, rosterEventId: 's1', outcome: 'other_person_removed' },
        ...over,
      });
    expect(reconsiderStepOf(kept(), contactBack)).toEqual({ step: 'decide' });
    // Not named by this person, or cancelled by this very person's removal (restoreStepOf's).
    expect(reconsiderStepOf(kept({ contactId: 'c9' }), contactBack)).toEqual({ step: 'skip' });
    expect(reconsiderStepOf(kept(), { ...restore, rosterEventId: 's2' })).toEqual({ step: 'skip' });
    // Never decided (its own person's restore will), or decided for good.
    expect(reconsiderStepOf(cancelled(), contactBack)).toEqual({ step: 'skip' });
    expect(
      reconsiderStepOf(
        cancelled({ reinstatement: { at: NOW, rosterEventId: 's1', outcome: 'slot_taken' } }),
        contactBack,
      ),
    ).toEqual({ step: 'skip' });
    expect(reconsiderStepOf(booking('b'), contactBack)).toEqual({ step: 'skip' });
    // This very restore before a crash.
    expect(
      reconsiderStepOf(
        kept({ status: 'booked', reinstatement: { at: NOW, rosterEventId: 's2', outcome: 'reinstated' } }),
        contactBack,
      ),
    ).toEqual({ step: 'republish_reinstated' });
    expect(
      reconsiderStepOf(
        kept({ reinstatement: { at: NOW, rosterEventId: 's2', outcome: 'teacher_busy' } }),
        contactBack,
      ),
    ).toEqual({ step: 'republish_not_reinstated', reason: 'teacher_busy' });
  });

  it('checks every person the booking names, and maps a lost claim to why not', () => {
    expect(peopleOf(booking('b'))).toEqual([
      { kind: 'pupil', personId: 'p1' },
      { kind: 'staff', personId: 't1' },
      { kind: 'contact', personId: 'c1' },
    ]);
    expect(claimOutcome('ok')).toBe('reinstated');
    expect(claimOutcome('teacher_busy')).toBe('teacher_busy');
    expect(claimOutcome('slot_taken')).toBe('slot_taken');
    expect(claimOutcome('exists')).toBe('slot_taken');
  });
});
