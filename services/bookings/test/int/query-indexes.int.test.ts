import { describeShape, indexServing, queryIndexReport, recordQueryShapes } from '@isams-sync/mongo';
import type { QueryShapeRecorder } from '@isams-sync/mongo';
import { eventually, uniqueName } from '@isams-sync/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOKINGS_INDEXES } from '../../src/adapters/mongo/bookings.store';
import { book, makeEvent } from '../support/fixtures';
import { rosterEvent, startHarness } from '../support/harness';
import type { Harness } from '../support/harness';

/**
 * Queries that scan a collection by design, each with why it is not on a hot path. Anything else
 * bookings sends must be served by an index it declares (`BOOKINGS_INDEXES`): on MongoDB no query of
 * a booking, a removal or an evening scans (the roster's twin: services/roster/test/query-indexes.int.test.ts).
 */
const COLD_SCANS: Record<string, string> = {
  // The end-of-evening sweep's work list: an entry per evening with held cancellations, deleted once
  // they are resolved (evenings live today or just ended).
  'heldEvenings.find({})': 'the end-of-evening sweep’s work list, every EVENING_SWEEP_INTERVAL_MS',
  'heldEvenings.find({tenantId=})': 'the same short list, for one school’s evenings view',
};

/** Queries that read all of one school's documents of a kind by design, with why that is small. */
const SCHOOL_WIDE: Record<string, string> = {
  'events.find({status=, tenantId=})': 'the events list by status: a school has tens of events a year',
  'events.aggregate({status=, tenantId=})': 'its count, for the page',
};

let recorder: QueryShapeRecorder;
let h: Harness;
beforeAll(async () => {
  // Before the service connects: its client is recorded.
  recorder = recordQueryShapes();
  h = await startHarness();
});
afterAll(async () => {
  recorder?.stop();
  await h?.close();
});

describe(
  'every query bookings makes has a declared index (MongoDB would not scan)',
  { timeout: 240_000 },
  () => {
    it('runs the bookings paths (events, slots, bookings, removals, holds, restores, previews, reports, the evening sweep) and checks each query shape', async () => {
      const t = uniqueName('school');
      // An evening next week and one live now; bookings in both.
      const week = await makeEvent(h, t, { id: 'week', staffId: 'T1', slotCount: 3 });
      const live = await makeEvent(h, t, { id: 'live', daysAhead: 0, status: 'live', staffId: 'T2' });
      const b1 = await book(h, t, week.slots[0]!.id, 'T1', 'P1', 'C1');
      await book(h, t, week.slots[1]!.id, 'T1', 'P2', 'C2');
      await book(h, t, live.slots[0]!.id, 'T2', 'P1', 'C1');
      // What the gateway and the dashboard read and change.
      await h.call('GetEvent', { eventId: 'week' }, t);
      await h.call('ListEvents', {}, t);
      await h.call('ListEvents', { status: 'open' }, t);
      await h.call('ListSlots', { eventId: 'week' }, t);
      await h.call('UpdateSlot', { slotId: week.slots[2]!.id, capacity: 2, location: 'Hall' }, t);
      await h.call('GetBooking', { bookingId: b1.id }, t);
      for (const filter of [{ eventId: 'week' }, { pupilId: 'P1' }, { staffId: 'T1' }, { contactId: 'C2' }])
        await h.call('ListBookings', filter, t);
      await h.call('ListBookings', { eventId: 'week', status: 'booked' }, t);
      await h.call('SetSchoolTimeZone', { timeZone: 'Europe/London' }, t);
      await h.call('PreviewRemovalImpact', { removals: [{ kind: 'pupil', id: 'P2' }] }, t);
      await h.call('ListEvenings', {}, t);
      // Removals (one cancelled, one held on the live evening), a restore, a teacher's removal.
      await h.sendRoster([rosterEvent(t, 'pupil', 'removed', 'P1', { syncRunId: 'r1' })]);
      await h.sendRoster([rosterEvent(t, 'pupil', 'restored', 'P1', { syncRunId: 'r2' })]);
      await h.sendRoster([
        rosterEvent(t, 'staff', 'removed', 'T1', { syncRunId: 'r3' }),
        rosterEvent(t, 'contact', 'removed', 'C2', { syncRunId: 'r3' }),
      ]);
      await h.call(
        'RunReinstatementReport',
        { syncRunId: 'r2', restoring: [{ kind: 'pupil', id: 'P1' }] },
        t,
      );
      await h.call('CancelBooking', { bookingId: b1.id }, t).catch(() => undefined);
      // The end-of-evening sweep (live evening still on: it reads what is held).
      await h.app.useCases.resolveEndedEvenings();
      // The processed-event records' retention (every school's, by age).
      await h.app.store.dropProcessedBefore(new Date(Date.now() - 100 * 86_400_000));
      await eventually(async () => (h.published.length > 0 ? true : undefined), 'a bookings event');

      const report = queryIndexReport('bookings', recorder.shapes(), BOOKINGS_INDEXES, COLD_SCANS);
      const { shapes } = report;
      process.stdout.write(report.text);
      expect(shapes.length).toBeGreaterThan(15);
      for (const c of ['events', 'slots', 'bookings', 'personStates', 'processedEvents'])
        expect(shapes.some((s) => s.collection === c)).toBe(true);
      expect(report.hot).toEqual([]);
      // Nor does one read every booking of a school: a query naming more than the school (and not by
      // `_id`) is served by an index past its tenant prefix.
      const tenantOnly = shapes.filter((s) => {
        if (s.equality.length < 2 || s.equality.includes('_id')) return false;
        const served = indexServing(s, BOOKINGS_INDEXES);
        const key = BOOKINGS_INDEXES.find((c) => c.collection === s.collection)?.indexes.find(
          (i) => i.name === served?.name,
        )?.key;
        const second = key ? Object.keys(key)[1] : undefined;
        return second === undefined || !s.equality.includes(second);
      });
      expect(tenantOnly.map(describeShape).filter((d) => SCHOOL_WIDE[d] === undefined)).toEqual([]);
    });
  },
);
