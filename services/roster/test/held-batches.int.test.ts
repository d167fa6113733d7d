import { describe, expect, it } from 'vitest';
import { eventually, uniqueName } from '@isams-sync/testing';
import { RosterErrors } from '../src/domain/roster-errors';
import { ids } from '../src/use-cases/records';
import type { ProcessingStep } from '../src/use-cases/changeset-processor';
import {
  createHarness,
  eventsFor,
  runFinished,
  publishedData as d,
  ofSchoolRun as of,
} from './support/harness';
import { miniSchool } from './support/mini-school';
import { pupil } from './support/raw';
import { publishSnapshot } from './support/school-feed';
import { rosterClient } from './support/grpc-client';
import { useStartedRoster } from './support/started-roster';

const roster = useStartedRoster();

async function run(tenantId: string, runId: string, data: ReturnType<typeof miniSchool>, dryRun = false) {
  await roster.publish(tenantId, runId, data, { dryRun });
  return runFinished(roster.app, tenantId, runId);
}

const pending = async (t: string) =>
  (await roster.rpc.call('listHeldBatches')({ status: 'pending' }, t)).batches;
const heldIds = async (t: string, batchId: string) =>
  (await roster.rpc.call('getHeldBatch')({ batchId, page: { pageSize: 500 } }, t)).records.map(
    (r) => `${r.change}:${r.entityId}`,
  );
const activePupils = async (t: string) => (await roster.app.store.loadStored(t)).activeCounts.pupil;

/** On an app of the test's own: 40 pupils applied (`seed`), then 6 of them leave (`r2`): held as `held-r2`. */
async function seedThenHoldSix(app: Parameters<typeof runFinished>[0], t: string): Promise<void> {
  await roster.publish(t, 'seed', miniSchool(40));
  expect((await runFinished(app, t, 'seed')).outcome).toBe('applied');
  await roster.publish(t, 'r2', miniSchool(40, { without: [1, 2, 3, 4, 5, 6] }));
  expect((await runFinished(app, t, 'r2')).outcome).toBe('held');
}

describe('a pending held batch stays decidable across later runs', () => {
  it('later runs add their held removals to the one pending batch; approve applies the version shown', async () => {
    const t = uniqueName('school');
    expect((await run(t, 'seed', miniSchool(40))).outcome).toBe('applied');
    // 6 of 40 leave: held
    expect(await run(t, 'r2', miniSchool(40, { without: [1, 2, 3, 4, 5, 6] }))).toMatchObject({
      outcome: 'held',
      heldBatchId: 'held-r2',
    });
    // an hour later a seventh leaves and someone joins: the joiner applies, the leaver joins the batch
    expect(
      await run(t, 'r3', miniSchool(40, { without: [1, 2, 3, 4, 5, 6, 7], extra: [pupil('501')] })),
    ).toMatchObject({ outcome: 'held', heldBatchId: 'held-r2', heldCount: 7 });
    expect(await roster.app.store.entity(t, 'pupil', '501')).toMatchObject({ status: 'active' });
    // a third run changes nothing: same batch, same version
    expect(
      await run(t, 'r4', miniSchool(40, { without: [1, 2, 3, 4, 5, 6, 7], extra: [pupil('501')] })),
    ).toMatchObject({ outcome: 'held', heldBatchId: 'held-r2' });

    const batches = await pending(t);
    expect(batches.map((b) => [b.batchId, b.total, b.version, b.lastSyncRunId])).toEqual([
      ['held-r2', 7, 2, 'r3'],
    ]);
    expect(await heldIds(t, 'held-r2')).toEqual([1, 2, 3, 4, 5, 6, 7].map((i) => `removed:${i}`));

    // approving the view from before r3 is refused clearly, and changes nothing
    await expect(
      roster.rpc.call('approveHeldBatch')({ batchId: 'held-r2', comment: 'old view', version: 1 }, t),
    ).rejects.toMatchObject({ errorCode: 'ROSTER_HELD_BATCH_CHANGED' });
    expect(await activePupils(t)).toBe(41);

    const approved = await roster.rpc.call('approveHeldBatch')(
      { batchId: 'held-r2', comment: 'leavers confirmed', version: 2 },
      t,
      'admin:1',
    );
    expect(approved).toMatchObject({ status: 'approved', version: 2, decidedBy: 'admin:1' });
    await roster.app.idle(); // the approval applies in the background
    expect(await activePupils(t)).toBe(34);
    const removed = await eventsFor(
      roster.h.events.changes,
      (e) => of(t)(e) && d(e).change === 'removed',
      7,
      'approved removals',
    );
    expect(removed.every((e) => d(e).removal?.reason === 'approved_held_batch')).toBe(true);
    expect(await pending(t)).toEqual([]);
  });

  it('a person back in the feed leaves the batch; the rest stay held even below the threshold', async () => {
    const t = uniqueName('school');
    await run(t, 'seed', miniSchool(40));
    await run(t, 'r2', miniSchool(40, { without: [1, 2, 3, 4, 5, 6] }));
    // 6 is back: 5 of 40 alone would not be held (not more than 5), but they await the decision
    expect(await run(t, 'r3', miniSchool(40, { without: [1, 2, 3, 4, 5] }))).toMatchObject({
      outcome: 'held',
      heldBatchId: 'held-r2',
      heldCount: 5,
    });
    expect(await activePupils(t)).toBe(40);
    expect(await heldIds(t, 'held-r2')).toEqual([1, 2, 3, 4, 5].map((i) => `removed:${i}`));
    // everyone back: nothing left to decide
    expect(await run(t, 'r4', miniSchool(40))).toMatchObject({ outcome: 'applied', changeCount: 0 });
    expect(await pending(t)).toEqual([]);
    expect(
      (await roster.rpc.call('getHeldBatch')({ batchId: 'held-r2', page: { pageSize: 10 } }, t)).batch
        ?.status,
    ).toBe('superseded');
  });

  it('a discard holds across later runs: no new batch, nothing published; a change of data is a new decision', async () => {
    const t = uniqueName('school');
    await run(t, 'seed', miniSchool(40));
    const without = { without: [1, 2, 3, 4, 5, 6] };
    expect((await run(t, 'r2', miniSchool(40, without))).outcome).toBe('held');
    expect(
      await roster.rpc.call('discardHeldBatch')(
        { batchId: 'held-r2', comment: 'feed glitch', version: 1 },
        t,
      ),
    ).toMatchObject({ status: 'discarded' });

    for (const r of ['r3', 'r4', 'r5']) {
      const cs = await run(t, r, miniSchool(40, without));
      expect(cs).toMatchObject({ outcome: 'applied', heldCount: 0, applyCount: 0, discardedCount: 6 });
      expect(cs.heldBatchId).toBeUndefined();
    }
    expect(await pending(t)).toEqual([]);
    expect(
      roster.h.events.changes.filter((e) => of(t)(e) && ['r3', 'r4', 'r5'].includes(e.syncrunid!)),
    ).toEqual([]);
    expect(await activePupils(t)).toBe(40);
    const listed = await roster.rpc.call('listRunChanges')({ syncRunId: 'r5', disposition: 'discarded' }, t);
    expect(listed.changes.map((c) => c.entityId)).toEqual(['1', '2', '3', '4', '5', '6']);

    // pupil 1 comes back, then leaves again: a new decision (1 of 40 applies as usual)
    await run(t, 'r6', miniSchool(40, { without: [2, 3, 4, 5, 6] }));
    expect(await run(t, 'r7', miniSchool(40, without))).toMatchObject({
      outcome: 'applied',
      discardedCount: 5,
      counts: { pupil: { removed: 1 } },
    });
    expect(await roster.app.store.entity(t, 'pupil', '1')).toMatchObject({ status: 'removed' });
    expect(await pending(t)).toEqual([]);
  });

  it('a dry run previews against the pending batch and the discards, and changes neither', async () => {
    const t = uniqueName('school');
    await run(t, 'seed', miniSchool(40));
    await run(t, 'r2', miniSchool(40, { without: [1, 2, 3, 4, 5, 6] }));
    const cs = await run(t, 'dry', miniSchool(40, { without: [1, 2, 3, 4, 5, 6, 7] }), true);
    expect(cs).toMatchObject({ dryRun: true, outcome: 'held', heldCount: 7 });
    expect(await pending(t)).toMatchObject([{ batchId: 'held-r2', total: 6, version: 1 }]);
  });
});

/** A school of 40 pupils: 6 leave (`r2`, held as `held-r2`), then a seventh (`r3`, held on the same batch). */
async function heldOnTwoRuns(): Promise<string> {
  const t = uniqueName('school');
  await run(t, 'seed', miniSchool(40));
  await run(t, 'r2', miniSchool(40, { without: [1, 2, 3, 4, 5, 6] }));
  expect(await run(t, 'r3', miniSchool(40, { without: [1, 2, 3, 4, 5, 6, 7] }))).toMatchObject({
    outcome: 'held',
    heldBatchId: 'held-r2',
  });
  return t;
}

describe('a superseded batch is reported, so its runs are decided', () => {
  it('a batch a later run left nothing of is reported on the run that opened it (sequence 3 `superseded`, with the batch, at the later run)', async () => {
    const t = await heldOnTwoRuns();
    // everyone back: nothing left to decide
    expect(await run(t, 'r4', miniSchool(40))).toMatchObject({ outcome: 'applied' });
    const batch = (await roster.rpc.call('getHeldBatch')({ batchId: 'held-r2' }, t)).batch!;
    expect(batch).toMatchObject({ status: 'superseded', lastSyncRunId: 'r4' });
    const reports = await eventsFor(roster.h.events.runs, of(t, 'r2'), 3, 'r2 reports after r4');
    expect(reports.map((e) => `${d(e).sequence}:${d(e).status}`)).toEqual([
      '1:applying',
      '2:held',
      '3:superseded',
    ]);
    expect(reports[2]!.data).toMatchObject({
      reportedBy: 'roster',
      heldBatchId: 'held-r2',
      holdKind: 'removals',
      dryRun: false,
      at: batch.decidedAt,
    });
    // No counts: the run's own (what it applied and held) stay as reported.
    expect(reports[2]!.data).not.toHaveProperty('counts');
    // Recorded as sent: the sweeper re-sends only an unrecorded one.
    expect((await roster.app.store.heldBatch(t, 'held-r2'))?.decisionReportedAt).toBeInstanceOf(Date);
    // The later run that held the same batch keeps its own report; the connector settles it with the batch.
    const r3 = roster.h.events.runs.filter(of(t, 'r3'));
    expect(r3.map((e) => `${d(e).sequence}:${d(e).status}`)).toEqual(['1:applying', '2:held']);
  });
});

describe('a discarded batch is reported, so its runs are decided', () => {
  it('a discard is reported on the run that opened the batch (sequence 3 `discarded`, with the batch, at the decision)', async () => {
    const t = await heldOnTwoRuns();
    const batch = await roster.rpc.call('discardHeldBatch')(
      { batchId: 'held-r2', comment: 'feed glitch', version: 2 },
      t,
      'admin:3',
    );
    expect(batch).toMatchObject({ status: 'discarded', decidedBy: 'admin:3' });
    const reports = await eventsFor(roster.h.events.runs, of(t, 'r2'), 3, 'r2 reports after the discard');
    expect(reports.map((e) => `${d(e).sequence}:${d(e).status}`)).toEqual([
      '1:applying',
      '2:held',
      '3:discarded',
    ]);
    const discarded = reports[2]!;
    expect(discarded.data).toMatchObject({
      reportedBy: 'roster',
      heldBatchId: 'held-r2',
      holdKind: 'removals',
      dryRun: false,
      at: batch.decidedAt,
    });
    // No counts: the run's own (what it applied and held) stay as reported.
    expect(discarded.data).not.toHaveProperty('counts');
    // The report is recorded as sent (the sweeper re-sends an unrecorded one); a repeated discard
    // changes nothing of the decision.
    expect((await roster.app.store.heldBatch(t, 'held-r2'))?.decisionReportedAt).toBeInstanceOf(Date);
    await roster.rpc.call('discardHeldBatch')({ batchId: 'held-r2', comment: 'again' }, t, 'admin:4');
    expect((await roster.rpc.call('getHeldBatch')({ batchId: 'held-r2' }, t)).batch).toMatchObject({
      decidedBy: 'admin:3',
      comment: 'feed glitch',
    });
    // The later run that held the same batch keeps its own report; the connector settles it with the batch.
    const r3 = roster.h.events.runs.filter(of(t, 'r3'));
    expect(r3.map((e) => `${d(e).sequence}:${d(e).status}`)).toEqual(['1:applying', '2:held']);
  });
});

describe('approving a held batch: answered at once, applied in the background, never lost', () => {
  it('approve records the decision and answers at once; the approval applies in the background (a long apply never times the admin out)', async () => {
    const t = uniqueName('school');
    await roster.withPausedApp(`${t}|r2|approval`, 'apply', async ({ app, rpc, pause }) => {
      await seedThenHoldSix(app, t);

      // The apply is paused until the answer arrived: an approve that waited for it would never answer.
      const answer = await rpc.call('approveHeldBatch')(
        { batchId: 'held-r2', comment: 'confirmed', version: 1 },
        t,
        'admin:1',
      );
      expect(answer).toMatchObject({ status: 'approved', decidedBy: 'admin:1', approvalState: 'applying' });
      await eventually(() => (pause.reached ? true : undefined), 'the approval reaching its apply step');
      expect(await activePupils(t)).toBe(40);
      // Approving again while it applies changes nothing and says so.
      expect(
        await rpc.call('approveHeldBatch')({ batchId: 'held-r2', comment: 'twice' }, t, 'admin:2'),
      ).toMatchObject({
        status: 'approved',
        decidedBy: 'admin:1',
        comment: 'confirmed',
        approvalState: 'applying',
      });

      pause.release();
      await app.idle();
      expect(await activePupils(t)).toBe(34);
      expect((await rpc.call('getHeldBatch')({ batchId: 'held-r2' }, t)).batch).toMatchObject({
        status: 'approved',
        approvalState: 'applied',
      });
      expect(
        (
          await eventsFor(
            roster.h.events.changes,
            (e) => of(t)(e) && d(e).change === 'removed',
            6,
            'removals',
          )
        ).length,
      ).toBe(6);
    });
  });

  it('an approval whose changes cannot be applied says `failed`, not `applied`, and removes no one', async () => {
    const t = uniqueName('school');
    const app = await roster.h.startApp({
      beforeStep: (step, changesetId) => {
        // A permanent failure of the approval's apply step (what an inconsistent change set raises).
        if (changesetId === `${t}|r2|approval` && step === 'apply')
          throw RosterErrors.ROSTER_SNAPSHOT_INCONSISTENT({ syncRunId: 'r2', datasetId: 'pupils' });
        return Promise.resolve();
      },
    });
    const rpc = rosterClient(app.grpcPort);
    try {
      await seedThenHoldSix(app, t);
      await rpc.call('approveHeldBatch')(
        { batchId: 'held-r2', comment: 'confirmed', version: 1 },
        t,
        'admin:1',
      );
      await app.idle();
      expect((await rpc.call('getHeldBatch')({ batchId: 'held-r2' }, t)).batch).toMatchObject({
        status: 'approved',
        approvalState: 'failed',
      });
      expect(await activePupils(t)).toBe(40);
    } finally {
      rpc.close();
      await app.stop();
    }
  });

  it('an approval recorded by a process that died before creating its changeset is applied by the next sweep', async () => {
    const t = uniqueName('school');
    await seedThenHoldSix(roster.app, t);
    // What the dead process left: the decision recorded under its lease, no approval changeset.
    const batch = await roster.app.heldBatches.get(t, 'held-r2');
    await roster.app.processor.withTenant(t, (lease) =>
      roster.app.store.approveHeldBatch(
        batch,
        {
          decidedAt: new Date(),
          comment: 'leavers confirmed',
          decidedBy: 'admin:1',
          approvalChangesetId: ids.changeset(t, 'r2', 'approval'),
        },
        lease.fence,
      ),
    );
    expect(await roster.app.store.getChangeset(t, ids.changeset(t, 'r2', 'approval'))).toBeNull();
    expect(await activePupils(t)).toBe(40);
    await roster.app.sweep();
    await roster.app.idle();
    expect(await runFinished(roster.app, t, 'r2', 'approval')).toMatchObject({ outcome: 'applied' });
    expect(await activePupils(t)).toBe(34);
    expect(
      (await roster.rpc.call('getHeldBatch')({ batchId: 'held-r2', page: { pageSize: 10 } }, t)).batch,
    ).toMatchObject({
      status: 'approved',
      approvalState: 'applied',
    });
  });
});

describe('a decided batch keeps its decision, not the people it held', () => {
  it('the held items (the people’s images) go once the grace period after the decision has passed; the decision stays', async () => {
    const t = uniqueName('school');
    await seedThenHoldSix(roster.app, t);
    await roster.rpc.call('approveHeldBatch')({ batchId: 'held-r2', comment: 'leavers' }, t, 'admin:1');
    await runFinished(roster.app, t, 'r2', 'approval');
    const items = async () =>
      (await roster.rpc.call('getHeldBatch')({ batchId: 'held-r2', page: { pageSize: 500 } }, t)).records;
    expect(await items()).toHaveLength(6);
    // Within the grace period (the undo window) the admin still sees whom the decision removed.
    await roster.app.sweep(new Date(Date.now() + 13 * 86_400_000));
    expect(await items()).toHaveLength(6);
    // After it the people are purged from the roster, and from the batch too: no image of them is left.
    await roster.app.sweep(new Date(Date.now() + 15 * 86_400_000));
    expect(await roster.app.store.entity(t, 'pupil', '1')).toMatchObject({ purged: true });
    expect(await items()).toEqual([]);
    expect(
      await roster.h.db.db
        .collection('changeChunks')
        .countDocuments({ tenantId: t, changesetId: ids.heldItems(t, 'held-r2', 1) }),
    ).toBe(0);
    expect((await roster.rpc.call('getHeldBatch')({ batchId: 'held-r2' }, t)).batch).toMatchObject({
      status: 'approved',
      decidedBy: 'admin:1',
      comment: 'leavers',
      total: 6,
    });
  });
});

describe('held batches: the metrics of pending batches, and a crash while a batch is updated', () => {
  it('the held-batch metrics count the pending batches of all schools and the age of the oldest, without a school id', async () => {
    const t = uniqueName('school');
    expect((await run(t, 'seed', miniSchool(40))).outcome).toBe('applied');
    expect((await run(t, 'r2', miniSchool(40, { without: [1, 2, 3, 4, 5, 6] }))).outcome).toBe('held');
    const mine = await roster.app.store.pendingBatch(t);
    const stats = await roster.app.store.pendingBatchStats();
    expect(stats.count).toBeGreaterThanOrEqual(1);
    expect(stats.oldestCreatedAt!.getTime()).toBeLessThanOrEqual(mine!.createdAt.getTime());

    await roster.app.sweep();
    const text = await (await fetch(`http://127.0.0.1:${roster.app.opsPort}/metrics`)).text();
    const value = (name: string) =>
      Number(new RegExp(`^${name}\\{service="roster"\\} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('roster_held_batches_pending')).toBe(stats.count);
    expect(value('roster_held_batch_oldest_age_seconds')).toBeGreaterThan(0);
    // What the replica keeps in hand, as of the sweep: the images of the runs it planned.
    expect(value('roster_memory_images')).toBe(roster.app.memory.images.size);
    expect(value('roster_memory_images')).toBeGreaterThan(0);
    expect(value('roster_memory_staged_chunk_bytes')).toBe(roster.app.memory.chunks.bytes);
    expect(text).not.toContain(t);
  });

  for (const step of ['held-batch', 'record-plan'] as ProcessingStep[]) {
    it(`a crash while updating the batch (before ${step}) + restart ends in the same batch`, async () => {
      const h = await createHarness();
      try {
        const t = uniqueName('school');
        let crashed = false;
        const app = await h.startApp({
          beforeStep: (s, changesetId) => {
            if (changesetId !== `${t}|r3`) return;
            if (crashed) throw new Error('process already crashed');
            if (s !== step) return;
            crashed = true;
            throw new Error(`simulated crash before ${s}`);
          },
        });
        await publishSnapshot(h.producer, h.topics.raw, t, 'seed', miniSchool(40));
        await runFinished(app, t, 'seed');
        await publishSnapshot(
          h.producer,
          h.topics.raw,
          t,
          'r2',
          miniSchool(40, { without: [1, 2, 3, 4, 5, 6] }),
        );
        await runFinished(app, t, 'r2');
        await publishSnapshot(
          h.producer,
          h.topics.raw,
          t,
          'r3',
          miniSchool(40, { without: [1, 2, 3, 4, 5, 6, 7] }),
        );
        await eventually(() => (crashed ? true : undefined), 'the simulated crash', { timeoutMs: 90_000 });
        await app.idle();
        await app.stop();
        const restarted = await h.startApp();
        expect(await runFinished(restarted, t, 'r3')).toMatchObject({
          outcome: 'held',
          heldBatchId: 'held-r2',
        });
        const batch = await restarted.store.heldBatch(t, 'held-r2');
        expect(batch).toMatchObject({ status: 'pending', version: 2, total: 7, lastSyncRunId: 'r3' });
        expect(await restarted.store.heldItems(batch!)).toHaveLength(7);
      } finally {
        await h.close();
      }
    });
  }
});
