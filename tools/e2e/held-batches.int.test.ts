import { MongoClient } from 'mongodb';
import { getTestInfra } from '@isams-sync/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  activeCounts,
  activeIds,
  bookParentsEvening,
  cancelledAtLeast,
  cancelledBookingIds,
  bookablePupils,
  listBookings,
  rosterSnapshot,
  School,
  waitForBookings,
  type SyncRun,
  useWatchedSystem,
} from './support';

interface HeldBatch {
  batchId: string;
  status: string;
  total: number;
  version: number;
  lastSyncRunId: string;
}

/**
 * Held removals that stay decidable, over the real processes with the connector's own scheduler
 * (every run here is a scheduled one): a batch held across three scheduled runs and then approved,
 * and a discard that sticks across further scheduled runs.
 */
describe('e2e: held removals across scheduled runs', () => {
  // Reference subscribers (full and directory): after each scenario their copies equal the roster.
  const e2e = useWatchedSystem({
    holdPercent: 10,
    holdMin: 5,
    env: { connector: { SCHEDULER_ENABLED: 'true', SCHEDULER_TICK_MS: '500', SCHEDULE_JITTER_MS: '0' } },
    subscribers: true,
  });
  let mongo: MongoClient;

  beforeAll(async () => {
    mongo = await MongoClient.connect(getTestInfra().mongoUrl);
  });

  afterAll(async () => {
    await mongo?.close();
  });
  /** The scheduled runs of the school, newest first. */
  async function scheduledRuns(school: School): Promise<Array<SyncRun & { trigger: { kind: string } }>> {
    const { runs } = await school.api<{ runs: Array<SyncRun & { trigger: { kind: string } }> }>(
      'GET',
      '/sync-runs?pageSize=20',
    );
    expect(runs.every((r) => r.trigger.kind === 'schedule')).toBe(true);
    return runs;
  }

  /**
   * The next scheduled run, as the connector's scheduler starts it: the school's next run time is
   * moved to now (the hour passes), the scheduler picks it up, and the run is awaited.
   */
  async function nextScheduledRun(school: School, seen: number): Promise<SyncRun> {
    if (seen > 0)
      await mongo
        .db(e2e.system.databases.connector)
        .collection<{ _id: string }>('sync_schedules')
        .updateOne({ _id: school.id }, { $set: { nextRunAt: new Date() } });
    for (let i = 0; ; i++) {
      const runs = await scheduledRuns(school);
      if (runs.length > seen) return school.waitRun(runs[0]!.syncRunId);
      if (i > 600) throw new Error(`no scheduled run of ${school.id}: ${e2e.system.logs()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  const pendingBatches = async (school: School) =>
    (await school.api<{ batches: HeldBatch[] }>('GET', '/held-batches?status=pending')).batches;

  it('a batch held across three scheduled runs stays decidable; approving cancels exactly the leavers’ bookings', async () => {
    const school = await School.create(e2e.system, 'e2e-held-approve', 31);
    expect((await nextScheduledRun(school, 0)).status, e2e.system.logs()).toBe('applied');
    const snap = await rosterSnapshot(e2e.clients, school.id);
    const { pupils, contacts } = bookablePupils(snap);
    const staff = activeIds(snap, 'staff')[0]!;
    const leavers = pupils.slice(0, 40); // > 10 % of 300 and > 5
    const late = pupils.slice(40, 42); // leave an hour later
    const stayers = pupils.slice(100, 103);
    const event = await bookParentsEvening(
      e2e.clients,
      school.id,
      [...leavers.slice(0, 6), late[0]!, ...stayers],
      staff,
      contacts,
      9,
    );
    for (const p of leavers) await school.sim('DELETE', `/pupils/${p}`);

    const first = await nextScheduledRun(school, 1);
    expect(first.status).toBe('held');
    // While held, the subscribers still see every leaver (nothing of the batch is published).
    await e2e.expectCopies(school.id);
    const batchId = first.heldBatchId!;
    const [v1] = await pendingBatches(school);
    expect(v1).toMatchObject({ batchId, version: 1 });

    // An hour later two more have left: the same batch, a new version with them in it.
    for (const p of late) await school.sim('DELETE', `/pupils/${p}`);
    const second = await nextScheduledRun(school, 2);
    expect(second).toMatchObject({ status: 'held', heldBatchId: batchId });
    // And an hour after that, nothing new: the same batch, the same version.
    const third = await nextScheduledRun(school, 3);
    expect(third).toMatchObject({ status: 'held', heldBatchId: batchId });
    const batches = await pendingBatches(school);
    expect(batches).toHaveLength(1);
    expect(batches[0]).toMatchObject({ batchId, version: 2, lastSyncRunId: second.syncRunId });
    expect(batches[0]!.total).toBeGreaterThan(v1!.total);
    const held = await school.api<{ records: Array<{ entityType: string; entityId: string }> }>(
      'GET',
      `/held-batches/${batchId}?entityType=pupil&pageSize=200`,
    );
    expect(held.records.map((r) => r.entityId).sort()).toEqual([...leavers, ...late].sort());
    // Nothing removed, nothing cancelled while held.
    expect(activeCounts(await rosterSnapshot(e2e.clients, school.id)).pupil).toBe(300);
    expect(
      (await listBookings(e2e.clients, school.id, event.eventId)).every((b) => b.status === 'booked'),
    ).toBe(true);

    const impact = await school.api<{ totalBookingsToCancel: number }>(
      'GET',
      `/held-batches/${batchId}/impact`,
    );
    expect(impact.totalBookingsToCancel).toBe(7);
    // Approving the view from before the second run is refused; the current one applies.
    await expect(
      school.api('POST', `/held-batches/${batchId}/approve`, { comment: 'old view', version: 1 }),
    ).rejects.toMatchObject({ status: 409 });
    const approved = await school.api<HeldBatch>('POST', `/held-batches/${batchId}/approve`, {
      comment: 'leavers confirmed',
      version: 2,
    });
    expect(approved).toMatchObject({ status: 'approved', version: 2 });
    const cancelledIds = [...leavers.slice(0, 6), late[0]!].map((p) => event.bookingByPupil.get(p)!).sort();
    const list = await waitForBookings(e2e.clients, school.id, event.eventId, cancelledAtLeast(7));
    expect(cancelledBookingIds(list)).toEqual(cancelledIds);
    expect(list.filter((b) => b.status === 'booked')).toHaveLength(3);
    expect(activeCounts(await rosterSnapshot(e2e.clients, school.id)).pupil).toBe(258);
    await e2e.expectCopies(school.id);
  }, 900_000);

  it('a discard sticks across scheduled runs: no new batch, no re-publish of the school, nobody removed', async () => {
    const school = await School.create(e2e.system, 'e2e-held-discard', 32);
    expect((await nextScheduledRun(school, 0)).status, e2e.system.logs()).toBe('applied');
    const snap = await rosterSnapshot(e2e.clients, school.id);
    for (const p of activeIds(snap, 'pupil').slice(0, 40)) await school.sim('DELETE', `/pupils/${p}`);
    const held = await nextScheduledRun(school, 1);
    expect(held.status).toBe('held');
    const [batch] = await pendingBatches(school);
    await school.api('POST', `/held-batches/${held.heldBatchId}/discard`, {
      comment: 'iSAMS glitch, they have not left',
      version: batch!.version,
    });
    const eventsBefore = e2e.changes.forTenant(school.id).length;

    // The first run after the discard publishes the document once (the connector's last applied
    // snapshot is older); the roster applies nothing of the discarded removals and holds nothing.
    const afterDiscard = await nextScheduledRun(school, 2);
    expect(afterDiscard).toMatchObject({ status: 'applied', heldBatchId: null });
    // The next ones find the data unchanged since that applied run: nothing is published at all.
    for (const seen of [3, 4]) {
      const run = await nextScheduledRun(school, seen);
      expect(run).toMatchObject({ status: 'unchanged', heldBatchId: null });
      expect(run.progress.chunksPublished).toBe(0);
    }
    expect(await pendingBatches(school)).toEqual([]);
    const all = await school.api<{ batches: HeldBatch[] }>('GET', '/held-batches');
    expect(all.batches.map((b) => b.status)).toEqual(['discarded']);
    expect(activeCounts(await rosterSnapshot(e2e.clients, school.id)).pupil).toBe(300);
    await new Promise((r) => setTimeout(r, 2000));
    expect(e2e.changes.forTenant(school.id)).toHaveLength(eventsBefore);
    await e2e.expectCopies(school.id);
  }, 900_000);
});
