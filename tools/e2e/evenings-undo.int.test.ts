import { startSystem, type RunningSystem } from '@isams-sync/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  activeIds,
  contactsByPupil,
  listBookings,
  rosterSnapshot,
  School,
  serviceClients,
  waitForBookings,
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Live evenings over the real processes (simulator, connector, roster, bookings, gateway on the real
 * Kafka and FerretDB): a run the connector's scheduler starts on its own during an evening that is
 * open today keeps that evening's bookings and shows them to the admin.
 */
describe('e2e: live evenings', () => {
  let system: RunningSystem;
  let clients: ServiceClients;
  let school: School;

  beforeAll(async () => {
    // The scheduler ticks every second and a saved schedule starts at once (no jitter), so the
    // test can make a scheduled run happen when it wants one.
    system = await startSystem({
      holdPercent: 10,
      holdMin: 5,
      env: { connector: { SCHEDULER_TICK_MS: '1000', SCHEDULE_JITTER_MS: '0' } },
    });
    clients = serviceClients(system);
    school = await School.create(system, 'e2e-evenings', 17);
  }, 240_000);

  afterAll(async () => {
    clients?.close();
    await system?.stop();
  }, 90_000);

  /** The newest scheduled run after `after` (ids), once it has ended. */
  async function scheduledRunAfter(after: ReadonlySet<string>): Promise<SyncRun> {
    const deadline = Date.now() + 240_000;
    for (;;) {
      const { runs } = await school.api<{ runs: SyncRun[] }>(
        'GET',
        '/sync-runs?trigger=scheduled&pageSize=5',
      );
      const fresh = runs.find((r) => !after.has(r.syncRunId));
      if (fresh) return school.waitRun(fresh.syncRunId);
      if (Date.now() > deadline) throw new Error(`no scheduled run: ${system.logs()}`);
      await sleep(500);
    }
  }

  it('a scheduled run during an evening open today holds its cancellations (bookings kept, shown with who and which run); finishing the evening applies them', async () => {
    const first = await scheduledRunAfter(new Set());
    expect(first.status, JSON.stringify(first.error)).toBe('applied');

    const snap = await rosterSnapshot(clients, school.id);
    const contacts = contactsByPupil(snap);
    const pupils = activeIds(snap, 'pupil')
      .filter((p) => contacts.has(p))
      .slice(0, 6);
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
    const evenings = await (async () => {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const e = await school.api<Evenings>('GET', '/evenings');
        if ((e.evenings[0]?.pending.length ?? 0) >= 3 || Date.now() > deadline) return e;
        await sleep(300);
      }
    })();
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
  }, 600_000);
});
