import { eventually, readUntil, type RunningSystem } from '@isams-sync/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  activeIds,
  bookablePupils,
  contactsByPupil,
  listBookings,
  rosterSnapshot,
  startSystemWithSchool,
  stopSystem,
  waitForBookings,
  type School,
  type ServiceClients,
  type SyncRun,
} from './support';

interface Evenings {
  timeZone: string;
  evenings: Array<{
    event: { id: string; title: string };
    state: string;
    pending: Array<{
      id: string;
      pupilId: string;
      heldBy: Array<{ personId: string; syncRunId: string | null }>;
    }>;
    familiesAffected: number;
  }>;
}

interface UndoView {
  undo: {
    status: string;
    restore: Array<{ entityType: string; entityId: string }>;
    undoneBy: string | null;
    undoneAt: string | null;
  };
  bookings: {
    lines: Array<{ booking: { id: string; pupilId: string }; outcome: string }>;
    reinstated: number;
    canReinstate: number;
    notReinstated: Array<{ reason: string; count: number }>;
  };
}

/** How the reads below poll; a failure names what it waited for and shows the last value read. */
const READ = { timeoutMs: 120_000, intervalMs: 500 };

/**
 * Live evenings and undo over the real processes (simulator, connector, roster, bookings, gateway on
 * the real Kafka and FerretDB): a run the connector's scheduler starts on its own during an evening
 * that is open today keeps that evening's bookings and shows them to the admin; a run's removals are
 * undone with the booking impact shown first and the reinstatements reported after.
 */
describe('e2e: live evenings and undo', () => {
  let system: RunningSystem;
  let clients: ServiceClients;
  let school: School;

  beforeAll(async () => {
    // The scheduler ticks every second and a saved schedule starts at once (no jitter), so the
    // test can make a scheduled run happen when it wants one.
    ({ system, clients, school } = await startSystemWithSchool(
      {
        holdPercent: 10,
        holdMin: 5,
        env: { connector: { SCHEDULER_ENABLED: 'true', SCHEDULER_TICK_MS: '1000', SCHEDULE_JITTER_MS: '0' } },
      },
      'e2e-evenings',
      17,
    ));
  }, 240_000);

  afterAll(() => stopSystem(system, clients), 90_000);

  let pupilsLeft: string[] = [];

  /** The newest scheduled run after `after` (ids), once it has ended. */
  async function scheduledRunAfter(after: ReadonlySet<string>): Promise<SyncRun> {
    const fresh = await eventually(
      async () => {
        const { runs } = await school.api<{ runs: SyncRun[] }>(
          'GET',
          '/sync-runs?trigger=schedule&pageSize=5',
        );
        return runs.find((r) => !after.has(r.syncRunId));
      },
      'a scheduled run',
      { timeoutMs: 240_000, intervalMs: 500, detail: () => system.logs() },
    );
    return school.waitRun(fresh.syncRunId);
  }

  it('a scheduled run during an evening open today holds its cancellations (bookings kept, shown with who and which run); finishing the evening applies them', async () => {
    const first = await scheduledRunAfter(new Set());
    expect(first.status, JSON.stringify(first.error)).toBe('applied');

    const snap = await rosterSnapshot(clients, school.id);
    const bookable = bookablePupils(snap);
    const { contacts } = bookable;
    const pupils = bookable.pupils.slice(0, 6);
    const staff = activeIds(snap, 'staff')[0]!;
    // An evening open (not marked live) that is on right now: today in the school's time zone.
    const startsAt = new Date(Date.now() - 10 * 60_000);
    const event = await clients.bookings(school.id, (c) => c.createEvent, {
      kind: 'parents_evening',
      title: 'Year 11 Parents Evening',
      startsAt: startsAt.toISOString(),
      endsAt: new Date(startsAt.getTime() + 40 * 60_000).toISOString(),
      status: 'open',
    });
    const { slots } = await clients.bookings(school.id, (c) => c.createSlots, {
      eventId: event.id,
      slots: pupils.map((_p, i) => ({
        startsAt: new Date(startsAt.getTime() + i * 300_000).toISOString(),
        endsAt: new Date(startsAt.getTime() + (i + 1) * 300_000).toISOString(),
        staffId: staff,
        capacity: 1,
      })),
    });
    const bookingOf = new Map<string, string>();
    for (const [i, pupilId] of pupils.entries()) {
      const b = await clients.bookings(school.id, (c) => c.createBooking, {
        slotId: slots[i]!.id,
        pupilId,
        contactId: contacts.get(pupilId),
      });
      bookingOf.set(pupilId, b.id);
    }

    const leavers = pupils.slice(0, 3);
    for (const p of leavers) await school.sim('DELETE', `/pupils/${p}`);
    // A changed schedule is due at once: the scheduler, not an admin, starts the next run.
    await school.api('PUT', '/settings', {
      isamsUrl: system.simulator.url,
      apiKey: school.apiKey,
      format: 'xml',
      scheduleMinutes: 61,
      enabled: true,
    });
    const run = await scheduledRunAfter(new Set([first.syncRunId]));
    expect(run.status, JSON.stringify(run.error)).toBe('applied');
    expect(run.rosterCounts?.pupil).toMatchObject({ removed: 3 });

    // The removals are applied in the roster, but tonight's bookings are kept and shown.
    const evenings = await readUntil(
      "tonight's three held bookings",
      () => school.api<Evenings>('GET', '/evenings'),
      (e) => (e.evenings[0]?.pending.length ?? 0) >= 3,
      { ...READ, timeoutMs: 60_000 },
    );
    expect(evenings.timeZone).toBe('Europe/London');
    expect(evenings.evenings.map((e) => [e.event.id, e.state])).toEqual([[event.id, 'live']]);
    const pending = evenings.evenings[0]!.pending;
    expect(pending.map((b) => b.pupilId).sort()).toEqual([...leavers].sort());
    expect(pending.every((b) => b.heldBy[0]?.syncRunId === run.syncRunId)).toBe(true);
    const list = await listBookings(clients, school.id, event.id);
    expect(list.filter((b) => b.status === 'cancelled')).toEqual([]);
    expect(
      list
        .filter((b) => b.pendingCancellation)
        .map((b) => b.id)
        .sort(),
    ).toEqual(leavers.map((p) => bookingOf.get(p)!).sort());

    // The evening ends: what is still held is cancelled; the others' bookings stay.
    await clients.bookings(school.id, (c) => c.updateEvent, { eventId: event.id, status: 'finished' });
    const after = await waitForBookings(
      clients,
      school.id,
      event.id,
      (l) => l.filter((b) => b.status === 'cancelled').length >= 3,
    );
    expect(
      after
        .filter((b) => b.status === 'cancelled')
        .map((b) => [b.pupilId, b.cancellation?.reason])
        .sort(),
    ).toEqual(leavers.map((p) => [p, 'roster_removal_event_finished']).sort());
    expect(after.filter((b) => b.status === 'booked')).toHaveLength(pupils.length - 3);
    expect((await school.api<Evenings>('GET', '/evenings')).evenings).toEqual([]);
    pupilsLeft = pupils.slice(3);
  }, 600_000);

  it('undo a run: the impact first, then everyone restored, the bookings reinstated where the slot is free and the one that could not be reported; undo twice = once; audited', async () => {
    const snap = await rosterSnapshot(clients, school.id);
    const contacts = contactsByPupil(snap);
    const staff = activeIds(snap, 'staff')[1]!;
    const [leaverA, leaverB, other] = pupilsLeft as [string, string, string];
    // Next week's evening: appointments for the two who will leave.
    const startsAt = new Date(Date.now() + 8 * 86_400_000);
    startsAt.setUTCHours(15, 0, 0, 0);
    const event = await clients.bookings(school.id, (c) => c.createEvent, {
      kind: 'parents_evening',
      title: 'Year 9 Parents Evening',
      startsAt: startsAt.toISOString(),
      endsAt: new Date(startsAt.getTime() + 3_600_000).toISOString(),
      status: 'open',
    });
    const { slots } = await clients.bookings(school.id, (c) => c.createSlots, {
      eventId: event.id,
      slots: [0, 1].map((i) => ({
        startsAt: new Date(startsAt.getTime() + i * 600_000).toISOString(),
        endsAt: new Date(startsAt.getTime() + (i + 1) * 600_000).toISOString(),
        staffId: staff,
        capacity: 1,
      })),
    });
    const bookingA = await clients.bookings(school.id, (c) => c.createBooking, {
      slotId: slots[0]!.id,
      pupilId: leaverA,
      contactId: contacts.get(leaverA),
    });
    const bookingB = await clients.bookings(school.id, (c) => c.createBooking, {
      slotId: slots[1]!.id,
      pupilId: leaverB,
      contactId: contacts.get(leaverB),
    });

    // A sync removes both (a wrong feed: under the threshold, so applied) and cancels both bookings.
    for (const p of [leaverA, leaverB]) await school.sim('DELETE', `/pupils/${p}`);
    const run = await school.sync();
    expect(run.status, JSON.stringify(run.error)).toBe('applied');
    expect(run.rosterCounts?.pupil).toMatchObject({ removed: 2 });
    await waitForBookings(clients, school.id, event.id, (l) => l.every((b) => b.status === 'cancelled'));
    // Meanwhile another family takes B's slot.
    await clients.bookings(school.id, (c) => c.createBooking, {
      slotId: slots[1]!.id,
      pupilId: other,
      contactId: contacts.get(other),
    });

    // First the impact: who comes back, which bookings can be reinstated and which cannot.
    const preview = await school.api<UndoView>('GET', `/sync-runs/${run.syncRunId}/undo`);
    expect(preview.undo.status).toBe('possible');
    expect(
      preview.undo.restore
        .filter((r) => r.entityType === 'pupil')
        .map((r) => r.entityId)
        .sort(),
    ).toEqual([leaverA, leaverB].sort());
    expect(preview.bookings).toMatchObject({
      canReinstate: 1,
      reinstated: 0,
      notReinstated: [{ reason: 'slot_taken', count: 1 }],
    });
    // Nothing changed by looking.
    expect((await rosterSnapshot(clients, school.id)).get(`pupil/${leaverA}`)?.startsWith('removed ')).toBe(
      true,
    );

    const undone = await school.api<UndoView>('POST', `/sync-runs/${run.syncRunId}/undo`, {
      comment: 'the feed lost two pupils',
    });
    // Recorded at once; the roster applies it in the background (read below until it is done).
    expect(['undoing', 'undone']).toContain(undone.undo.status);
    const after = await readUntil(
      'both leavers active again',
      () => rosterSnapshot(clients, school.id),
      (snapAfter) => [leaverA, leaverB].every((p) => snapAfter.get(`pupil/${p}`)?.startsWith('active ')),
      READ,
    );
    expect(after.get(`pupil/${leaverB}`)?.startsWith('active ')).toBe(true);

    // The report: A's booking reinstated, B's not (its slot was taken), with the reason.
    const report = await readUntil(
      'no booking left to reinstate',
      () => school.api<UndoView>('GET', `/sync-runs/${run.syncRunId}/undo`),
      (r) => r.bookings.canReinstate === 0,
      READ,
    );
    expect(report.bookings).toMatchObject({
      reinstated: 1,
      canReinstate: 0,
      notReinstated: [{ reason: 'slot_taken', count: 1 }],
    });
    const list = await listBookings(clients, school.id, event.id);
    expect(list.find((b) => b.id === bookingA.id)?.status).toBe('booked');
    expect(list.find((b) => b.id === bookingB.id)?.status).toBe('cancelled');

    // Undo twice = once; the undo is in the audit log with who and which run.
    const again = await school.api<UndoView>('POST', `/sync-runs/${run.syncRunId}/undo`, {
      comment: 'again',
    });
    expect(again.undo).toMatchObject({ undoneBy: undone.undo.undoneBy, undoneAt: undone.undo.undoneAt });
    const audit = await school.api<{ entries: Array<{ action: string; target: { syncRunId?: string } }> }>(
      'GET',
      '/audit-log',
    );
    expect(
      audit.entries.filter((e) => e.action === 'sync-run.undo' && e.target.syncRunId === run.syncRunId),
    ).toHaveLength(2);
  }, 600_000);
});
