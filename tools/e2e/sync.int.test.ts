import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  activeCounts,
  activeIds,
  cancelledAtLeast,
  cancelledBookingIds,
  cancelledOf,
  bookablePupils,
  bookParentsEvening,
  listBookings,
  rosterSnapshot,
  School,
  snapshotDiff,
  waitForBookings,
  useWatchedSystem,
} from './support';

/**
 * The whole system as processes on the real Kafka and FerretDB, driven like an admin and the
 * bookings product would: full sync, unchanged resync, term-time changes, a dataset dropped from the
 * key, and a mass removal that is held, previewed and approved.
 */
describe('e2e: syncs of simulated schools through the real processes', () => {
  // Reference subscribers (full and directory): after every scenario their copies equal the roster.
  const e2e = useWatchedSystem({ holdPercent: 10, holdMin: 5, subscribers: true });
  let a: School;
  let b: School;
  const runsA: string[] = [];
  const runsB: string[] = [];

  beforeAll(async () => {
    // Same seed: the two schools start with identical iSAMS data. Their servers differ: `a` keeps
    // connections alive, `b` closes the connection after every response (HTTP/1.0 semantics).
    [a, b] = await Promise.all([
      School.create(e2e.system, 'e2e-sync-a', 11, { connection: 'keep-alive' }),
      School.create(e2e.system, 'e2e-sync-b', 11, { connection: 'close' }),
    ]);
  }, 240_000);

  afterEach(async () => {
    for (const school of [a, b]) await e2e.expectCopies(school.id);
  }, 180_000);

  it('full sync: every entity lands in the roster, once per school, with an added event each', async () => {
    const [runA, runB] = await Promise.all([a.sync(), b.sync()]);
    expect(runA.status, e2e.system.logs()).toBe('applied');
    expect(runB.status).toBe('applied');
    runsA.push(runA.syncRunId);
    runsB.push(runB.syncRunId);
    const [snapA, snapB] = await Promise.all([
      rosterSnapshot(e2e.clients, a.id),
      rosterSnapshot(e2e.clients, b.id),
    ]);
    const counts = activeCounts(snapA);
    expect(counts).toMatchObject({ pupil: 300, staff: expect.any(Number) as number });
    // Same iSAMS data ⇒ the same roster, whatever the school: the basis of the crash comparisons.
    expect(snapshotDiff(snapA, snapB)).toEqual([]);
    const added = Object.values(runA.rosterCounts ?? {}).reduce((n, c) => n + (c.added ?? 0), 0);
    expect(added).toBe(snapA.size);
    expect(await e2e.changes.waitForDistinct(a.id, snapA.size)).toBe(snapA.size);
    const facts = e2e.changes.facts(a.id, runsA);
    expect(facts).toHaveLength(snapA.size);
    expect(facts.every((f) => f.startsWith('0 ') && f.includes('.added.v1 '))).toBe(true);
    expect(e2e.changes.facts(b.id, runsB)).toEqual(facts);
  }, 300_000);

  it('unchanged resync: nothing published, roster and events untouched', async () => {
    const before = await rosterSnapshot(e2e.clients, a.id);
    const eventsBefore = e2e.changes.forTenant(a.id).length;
    const run = await a.sync();
    expect(run.status).toBe('unchanged');
    expect(snapshotDiff(await rosterSnapshot(e2e.clients, a.id), before)).toEqual([]);
    await new Promise((r) => setTimeout(r, 2000));
    expect(e2e.changes.forTenant(a.id).length).toBe(eventsBefore);
  }, 120_000);

  it("term-time changes cancel exactly the leavers' future bookings", async () => {
    const snap = await rosterSnapshot(e2e.clients, a.id);
    const bookable = bookablePupils(snap);
    const { contacts } = bookable;
    const pupils = bookable.pupils.slice(0, 10);
    const staff = activeIds(snap, 'staff')[0]!;
    const future = await bookParentsEvening(e2e.clients, a.id, pupils, staff, contacts, 10);
    const past = await bookParentsEvening(e2e.clients, a.id, pupils.slice(0, 4), staff, contacts, 12);
    await e2e.clients.bookings(a.id, (c) => c.updateEvent, { eventId: past.eventId, status: 'finished' });
    const leavers = pupils.slice(0, 4);
    for (const p of leavers) await a.sim('DELETE', `/pupils/${p}`);
    const joiner = (await a.sim('POST', '/pupils', { ncYear: 9, forename: 'Siân', surname: "O'Brien" })) as {
      id?: number | string;
    };
    await a.sim('PATCH', `/pupils/${pupils[5]}`, { forename: 'Renamed' });

    const run = await a.sync();
    expect(run.status, JSON.stringify(run.error)).toBe('applied');
    runsA.push(run.syncRunId);
    expect(run.rosterCounts?.pupil).toMatchObject({ added: 1, removed: 4, updated: 1 });

    const expected = leavers.map((p) => future.bookingByPupil.get(p)!).sort();
    const list = await waitForBookings(e2e.clients, a.id, future.eventId, cancelledAtLeast(4));
    expect(cancelledBookingIds(list)).toEqual(expected);
    expect(cancelledOf(list).map((x) => x.cancellation?.reason)).toEqual(Array(4).fill('roster_removal'));
    // A finished event keeps its history: the leavers' bookings there are not touched.
    expect((await listBookings(e2e.clients, a.id, past.eventId)).map((x) => x.status)).toEqual(
      Array(4).fill('booked'),
    );

    const pupilFacts = e2e.changes
      .facts(a.id, runsA)
      .filter((f) => f.startsWith('1 ') && f.includes('.pupil.'))
      .map((f) => f.replace('com.schoolcloud.isams-sync.roster.', ''));
    await e2e.changes.waitForDistinct(a.id, snap.size + 6);
    const after = e2e.changes
      .facts(a.id, runsA)
      .filter((f) => f.startsWith('1 ') && f.includes('.pupil.'))
      .map((f) => f.replace('com.schoolcloud.isams-sync.roster.', ''));
    expect(after.length).toBeGreaterThanOrEqual(pupilFacts.length);
    expect(after).toEqual(
      [
        ...leavers.map((p) => `1 pupil.removed.v1 ${p}`),
        `1 pupil.updated.v1 ${pupils[5]}`,
        ...(joiner.id === undefined ? [] : [`1 pupil.added.v1 ${joiner.id}`]),
      ].sort(),
    );
    if (joiner.id === undefined) expect(after.filter((f) => f.includes('.added.'))).toHaveLength(1);
  }, 300_000);

  it('a dataset dropped from the key removes nothing of that type', async () => {
    const before = await rosterSnapshot(e2e.clients, a.id);
    await a.sim('DELETE', '/key/datasets/teachingSetLists');
    const run = await a.sync();
    expect(run.status, JSON.stringify(run.error)).toBe('applied');
    expect(run.absentDatasets).toHaveLength(1);
    expect(run.absentDatasets[0]).toMatch(/set ?lists/i);
    const after = await rosterSnapshot(e2e.clients, a.id);
    expect(activeCounts(after).setMembership).toBe(activeCounts(before).setMembership);
    expect(snapshotDiff(after, before)).toEqual([]);
    await a.sim('POST', '/key/datasets/teachingSetLists');
  }, 180_000);

  it('over the generation limit: fetched in method groups, the same data is `unchanged`, and a change applies', async () => {
    // Baseline: the whole key again (the previous scenario applied a snapshot without set lists).
    const baseline = await a.sync();
    expect(baseline.fetch?.mode).toBe('whole');
    expect(['applied', 'unchanged']).toContain(baseline.status);
    const before = await rosterSnapshot(e2e.clients, a.id);
    // 2,821 rows × 100 ms per 1,000 ≈ 282 ms for the whole key; each module group fits in 200 ms.
    await e2e.system.simulator.setServer(a.id, { generation: { limitMs: 200, msPer1000Rows: 100 } });
    const grouped = await a.sync();
    expect(grouped.status, JSON.stringify(grouped.error)).toBe('unchanged');
    expect(grouped.fetch?.mode).toBe('groups');
    expect(grouped.fetch?.groups.map((g) => g.status)).toEqual(['done', 'done', 'done']);
    expect(snapshotDiff(await rosterSnapshot(e2e.clients, a.id), before)).toEqual([]);
    const settings = await a.api<{ fetchPlan: { mode: string; switchedBecause: string | null } }>(
      'GET',
      '/settings',
    );
    expect(settings.fetchPlan).toMatchObject({ mode: 'groups', switchedBecause: 'ISAMS_TIMEOUT' });

    const pupil = activeIds(before, 'pupil')[7]!;
    await a.sim('PATCH', `/pupils/${pupil}`, { forename: 'Grouped' });
    const changed = await a.sync();
    expect(changed.status, JSON.stringify(changed.error)).toBe('applied');
    expect(changed.fetch?.mode).toBe('groups');
    expect(changed.rosterCounts?.pupil).toMatchObject({ updated: 1, added: 0, removed: 0 });
  }, 180_000);

  it('mass removal is held, previewed, approved, and the cancellations equal the preview', async () => {
    const snap = await rosterSnapshot(e2e.clients, b.id);
    const { pupils, contacts } = bookablePupils(snap);
    const staff = activeIds(snap, 'staff')[0]!;
    const leavers = pupils.slice(0, 40); // > 10 % of 300 and > 5
    const booked = [...leavers.slice(0, 6), ...pupils.slice(100, 103)];
    const event = await bookParentsEvening(e2e.clients, b.id, booked, staff, contacts, 9);
    for (const p of leavers) await b.sim('DELETE', `/pupils/${p}`);

    const run = await b.sync();
    expect(run.status, JSON.stringify(run.error)).toBe('held');
    expect(run.heldBatchId).toBeTruthy();
    // Nothing removed while held.
    expect(activeCounts(await rosterSnapshot(e2e.clients, b.id)).pupil).toBe(300);
    expect((await listBookings(e2e.clients, b.id, event.eventId)).every((x) => x.status === 'booked')).toBe(
      true,
    );

    const impact = await b.api<{
      totalBookingsToCancel: number;
      events: Array<{ bookingsToCancel: Array<{ id: string }> }>;
    }>('GET', `/held-batches/${run.heldBatchId}/impact`);
    const preview = impact.events.flatMap((e) => e.bookingsToCancel.map((x) => x.id)).sort();
    expect(impact.totalBookingsToCancel).toBe(6);
    expect(preview).toEqual(
      leavers
        .slice(0, 6)
        .map((p) => event.bookingByPupil.get(p)!)
        .sort(),
    );

    await b.api('POST', `/held-batches/${run.heldBatchId}/approve`, { comment: 'leavers confirmed' });
    const list = await waitForBookings(e2e.clients, b.id, event.eventId, cancelledAtLeast(6));
    expect(cancelledBookingIds(list)).toEqual(preview);
    expect(cancelledOf(list).every((x) => x.cancellation?.reason === 'roster_removal_approved')).toBe(true);
    const pupilsLeft = async () => activeCounts(await rosterSnapshot(e2e.clients, b.id)).pupil;
    for (let i = 0; i < 60 && (await pupilsLeft()) !== 260; i++)
      await new Promise((r) => setTimeout(r, 1000));
    expect(await pupilsLeft()).toBe(260);
  }, 300_000);
});
