import { beforeAll, describe, expect, it } from 'vitest';
import {
  activeCounts,
  activeIds,
  bookParentsEvening,
  bookablePupils,
  listBookings,
  rosterSnapshot,
  School,
  snapshotDiff,
  waitForBookings,
  useWatchedSystem,
} from './support';

interface RawRow {
  attributes: Record<string, string>;
  children: Array<{ name: string; text?: string }>;
}
interface HeldBatchView {
  batchId: string;
  status: string;
  kind: string;
  reason: string | null;
  total: number;
}

/**
 * School identity over the real processes: the key of a school starts returning another school's
 * iSAMS data (the simulator's `replace`: same ids, other people) — the whole sync is held, nothing
 * is published and no booking is cancelled until an admin approves; a September intake (over a
 * third of pupils new, leavers gone) syncs without a hold.
 */
describe('e2e: another school under the same key; a September intake', () => {
  const e2e = useWatchedSystem({ holdPercent: 10, holdMin: 5 });
  let x: School;
  let y: School;

  beforeAll(async () => {
    [x, y] = await Promise.all([
      School.create(e2e.system, 'e2e-id-x', 21),
      School.create(e2e.system, 'e2e-id-y', 23),
    ]);
  }, 240_000);

  it("another school's document is held whole and cancels no booking; approval then applies it", async () => {
    expect((await x.sync()).status, e2e.system.logs()).toBe('applied');
    // 12 joiners, each with a parent, whose ids the other school does not have: the other school's
    // document would remove them (and cancel their bookings) if it were applied.
    const { joined } = (await x.sim('POST', '/churn', { leavers: 0, joiners: 12 })) as { joined: number[] };
    for (const p of joined)
      await x.sim('POST', '/contacts', {
        pupilIds: [p],
        people: [{ forename: 'Jo', surname: `Parent${p}` }],
      });
    expect((await x.sync()).status).toBe('applied');
    const snap = await rosterSnapshot(e2e.clients, x.id);
    const bookable = bookablePupils(snap);
    const { contacts } = bookable;
    const withContacts = bookable.pupils.slice(0, 4);
    const booked = [...joined.map(String), ...withContacts];
    const event = await bookParentsEvening(
      e2e.clients,
      x.id,
      booked,
      activeIds(snap, 'staff')[0]!,
      contacts,
      9,
    );
    const eventsBefore = e2e.changes.forTenant(x.id).length;
    const distinctBefore = new Set(e2e.changes.forTenant(x.id).map((e) => e.id)).size;

    await x.sim('POST', '/replace', { seed: 22, size: 'small' });
    const run = await x.sync();
    expect(run.status, JSON.stringify(run.error)).toBe('held');
    expect(run.heldBatchId).toBeTruthy();
    // Nothing applied: the roster as it was, no change event, every booking still booked.
    expect(snapshotDiff(await rosterSnapshot(e2e.clients, x.id), snap)).toEqual([]);
    await new Promise((r) => setTimeout(r, 2000));
    expect(e2e.changes.forTenant(x.id).length).toBe(eventsBefore);
    expect((await listBookings(e2e.clients, x.id, event.eventId)).map((b) => b.status)).toEqual(
      Array(booked.length).fill('booked'),
    );

    const roster = await x.api<{ holdKind: string | null; holdReason: string | null; changeCount: number }>(
      'GET',
      `/sync-runs/${run.syncRunId}/roster`,
    );
    expect(roster.holdKind).toBe('whole_run');
    expect(roster.holdReason).toMatch(
      /^This document looks like a different school: [\d,]+ of 300 known pupils now have a different name and date of birth; /,
    );
    const pending = await x.api<{ batches: HeldBatchView[] }>('GET', '/held-batches?status=pending');
    expect(pending.batches).toHaveLength(1);
    expect(pending.batches[0]).toMatchObject({
      batchId: run.heldBatchId,
      kind: 'whole_run',
      reason: roster.holdReason,
      total: roster.changeCount,
    });

    // The admin sees what approving would cancel, approves (audited), and the sync is applied.
    const impact = await x.api<{ totalBookingsToCancel: number }>(
      'GET',
      `/held-batches/${run.heldBatchId}/impact`,
    );
    expect(impact.totalBookingsToCancel).toBeGreaterThanOrEqual(joined.length);
    await x.api('POST', `/held-batches/${run.heldBatchId}/approve`, {
      comment: 'the school moved to a new iSAMS',
    });
    const audit = await x.api<{ entries: Array<{ action: string; outcome: string }> }>('GET', '/audit-log');
    expect(audit.entries.filter((e) => e.action === 'held-batch.approve').map((e) => e.outcome)).toEqual([
      'succeeded',
    ]);
    // The connector's run turns from held to applied when the roster reports the approval applied.
    for (let i = 0; i < 240 && (await x.run(run.syncRunId)).status !== 'applied'; i++)
      await new Promise((r) => setTimeout(r, 500));
    expect((await x.run(run.syncRunId)).status).toBe('applied');
    expect(await e2e.changes.waitForDistinct(x.id, distinctBefore + roster.changeCount)).toBe(
      distinctBefore + roster.changeCount,
    );
    const ofRun = e2e.changes.forTenant(x.id).filter((e) => e.syncRunId === run.syncRunId);
    expect(new Set(ofRun.map((e) => e.id)).size).toBe(roster.changeCount);

    // The roster is now the other school's: every current pupil of its iSAMS, under its own name.
    const truth = (await x.sim('GET', '/ground-truth?datasets=currentPupils')) as {
      datasets: { currentPupils: RawRow[] };
    };
    const surnameOf = new Map(
      truth.datasets.currentPupils.map((p) => [
        p.attributes.Id!,
        p.children.find((c) => c.name === 'Surname')?.text,
      ]),
    );
    const after = await rosterSnapshot(e2e.clients, x.id);
    expect(activeCounts(after).pupil).toBe(surnameOf.size);
    for (const id of activeIds(after, 'pupil'))
      expect(
        (JSON.parse(after.get(`pupil/${id}`)!.slice('active '.length)) as { surname?: string }).surname,
      ).toBe(surnameOf.get(id));
    // The joiners the other school does not have are removed by the approval, and their bookings cancelled.
    const list = await waitForBookings(e2e.clients, x.id, event.eventId, (l) =>
      joined.every((p) => l.find((b) => b.pupilId === String(p))?.status === 'cancelled'),
    );
    expect(
      list.filter((b) => joined.map(String).includes(b.pupilId)).map((b) => b.cancellation?.reason),
    ).toEqual(Array(joined.length).fill('roster_removal_approved'));
  }, 480_000);

  it('a September intake (over a third of pupils new, leavers gone) syncs without a hold', async () => {
    expect((await y.sync()).status, e2e.system.logs()).toBe('applied');
    const before = activeCounts(await rosterSnapshot(e2e.clients, y.id)).pupil!;
    // 15 leavers (5 %: under the removal threshold) and 145 joiners: 145 of 430 pupils (34 %) are new.
    const { left, joined } = (await y.sim('POST', '/churn', { leavers: 15, joiners: 145 })) as {
      left: number[];
      joined: number[];
    };
    const stay = activeIds(await rosterSnapshot(e2e.clients, y.id), 'pupil').filter(
      (p) => !left.includes(Number(p)),
    );
    for (const p of stay.slice(0, 2)) await y.sim('PATCH', `/pupils/${p}`, { surname: 'Married' });
    expect(joined.length / (before - left.length + joined.length)).toBeGreaterThan(1 / 3);

    const run = await y.sync();
    expect(run.status, JSON.stringify(run.error)).toBe('applied');
    expect(run.heldBatchId).toBeNull();
    expect(run.rosterCounts?.pupil).toMatchObject({ added: 145, removed: 15, held: 0 });
    expect(run.rosterCounts?.pupil?.updated).toBeGreaterThanOrEqual(2);
    const roster = await y.api<{ holdKind: string | null }>('GET', `/sync-runs/${run.syncRunId}/roster`);
    expect(roster.holdKind).toBeNull();
    expect(
      (await y.api<{ batches: HeldBatchView[] }>('GET', '/held-batches?status=pending')).batches,
    ).toEqual([]);
    expect(activeCounts(await rosterSnapshot(e2e.clients, y.id)).pupil).toBe(before - 15 + 145);
  }, 300_000);
});
