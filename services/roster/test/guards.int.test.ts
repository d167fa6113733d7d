import { describe, expect, it } from 'vitest';
import { useStartedRoster } from './support/started-roster';
import { headerValue, readTopic } from '@isams-sync/kafka';
import { eventually, uniqueName } from '@isams-sync/testing';
import { eventsFor, runFinished, publishedData as d, ofSchoolRun as of } from './support/harness';
import { miniSchool } from './support/mini-school';
import { pupil } from './support/raw';
import { snapshotEvents } from './support/school-feed';

const roster = useStartedRoster();

async function seed(tenantId: string, n = 40): Promise<void> {
  await roster.publish(tenantId, 'seed', miniSchool(n));
  expect((await runFinished(roster.app, tenantId, 'seed')).outcome).toBe('applied');
}

describe('input guards: a dataset absent or newly empty', () => {
  it('a dataset the key did not return removes nothing of its type', async () => {
    const t = uniqueName('school');
    await seed(t);
    const { currentStaff: _absent, ...rest } = miniSchool(40);
    await roster.publish(t, 'r2', rest);
    const cs = await runFinished(roster.app, t, 'r2');
    expect(cs).toMatchObject({ outcome: 'applied', changeCount: 0 });
    expect((await roster.app.store.loadStored(t)).activeCounts.staff).toBe(3);
  });

  it('an empty dataset that was not empty before is held (run reported held with the batch id)', async () => {
    const t = uniqueName('school');
    await seed(t, 4);
    await roster.publish(t, 'r2', {
      ...miniSchool(4),
      currentPupils: [],
    });
    const cs = await runFinished(roster.app, t, 'r2');
    expect(cs).toMatchObject({
      outcome: 'held',
      heldCount: 4,
      heldTypes: { pupil: 'empty_dataset' },
      heldBatchId: 'held-r2',
    });
    expect((await roster.app.store.loadStored(t)).activeCounts.pupil).toBe(4);
    const runs = await eventsFor(roster.h.events.runs, of(t, 'r2'), 2, 'r2 reports');
    expect(runs.map((e) => d(e).status)).toEqual(['applying', 'held']);
    expect(d(runs[1]!).heldBatchId).toBe('held-r2');
    // Only removals held: the connector counts this run for "data as of".
    expect(d(runs[1]!).holdKind).toBe('removals');
  });
});

describe('input guards: removals above the threshold, held for an admin to decide', () => {
  it('removals above the threshold are held as a named batch while additions and updates apply; approve once', async () => {
    const t = uniqueName('school');
    await seed(t);
    // 6 of 40 removed: 15 % and more than 5 → held; one added, one renamed → applied
    await roster.publish(
      t,
      'r2',
      miniSchool(40, { without: [1, 2, 3, 4, 5, 6], extra: [pupil('500')], renamed: { 7: 'Renamed' } }),
    );
    const cs = await runFinished(roster.app, t, 'r2');
    expect(cs).toMatchObject({
      outcome: 'held',
      heldCount: 6,
      applyCount: 2,
      counts: { pupil: { added: 1, updated: 1, held: 6, removed: 0 } },
    });
    const applied = await eventsFor(roster.h.events.changes, of(t, 'r2'), 2, 'r2 changes');
    expect(applied.map((e) => d(e).change).sort()).toEqual(['added', 'updated']);

    const listed = await roster.rpc.call('listHeldBatches')({ status: 'pending' }, t);
    expect(listed.batches.map((b) => b.batchId)).toEqual(['held-r2']);
    const batch = await roster.rpc.call('getHeldBatch')({ batchId: 'held-r2', query: 'q3' }, t);
    expect(batch.records.map((r) => r.entityId)).toEqual(['3']);
    expect(batch.batch).toMatchObject({
      status: 'pending',
      total: 6,
      types: [{ entityType: 'pupil', count: 6, reason: 'threshold' }],
    });

    const approved = await roster.rpc.call('approveHeldBatch')(
      { batchId: 'held-r2', comment: 'leavers confirmed' },
      t,
      'admin:7',
    );
    expect(approved).toMatchObject({
      status: 'approved',
      decidedBy: 'admin:7',
      comment: 'leavers confirmed',
    });
    await roster.app.idle(); // the approval applies in the background
    const removed = await eventsFor(
      roster.h.events.changes,
      (e) => of(t, 'r2')(e) && d(e).change === 'removed',
      6,
      'approved removals',
    );
    expect(
      removed.every(
        (e) => d(e).removal?.reason === 'approved_held_batch' && d(e).removal?.approvedBy === 'admin:7',
      ),
    ).toBe(true);
    expect((await roster.app.store.loadStored(t)).activeCounts.pupil).toBe(35);
    const runs = await eventsFor(roster.h.events.runs, of(t, 'r2'), 3, 'r2 reports after approval');
    expect(runs.map((e) => `${d(e).sequence}:${d(e).status}`)).toEqual(['1:applying', '2:held', '3:applied']);
    // The decision's report names the batch it decided, as a discard's does: a connector that takes it
    // before the run's `held` report still ends the other runs held on that batch.
    expect(d(runs[2]!)).toMatchObject({ heldBatchId: 'held-r2', holdKind: 'removals' });

    // approving again changes nothing; discarding an approved batch is refused; thresholds untouched
    await roster.rpc.call('approveHeldBatch')({ batchId: 'held-r2', comment: 'again' }, t, 'admin:8');
    expect((await roster.rpc.call('getHeldBatch')({ batchId: 'held-r2' }, t)).batch).toMatchObject({
      decidedBy: 'admin:7',
      comment: 'leavers confirmed',
    });
    await expect(
      roster.rpc.call('discardHeldBatch')({ batchId: 'held-r2', comment: 'x' }, t),
    ).rejects.toMatchObject({ errorCode: 'ROSTER_HELD_BATCH_NOT_PENDING' });
    expect((await roster.rpc.call('getRemovalThresholds')({}, t)).defaultThreshold).toEqual({
      percent: 10,
      min: 5,
    });
    expect(
      new Set(
        roster.h.events.changes.filter((e) => of(t, 'r2')(e) && d(e).change === 'removed').map((e) => e.id),
      ).size,
    ).toBe(6);
  });

  it('discard keeps the records; their continued absence is not held again; a reappearance is a no-op', async () => {
    const t = uniqueName('school');
    await seed(t);
    const without = { without: [1, 2, 3, 4, 5, 6] };
    await roster.publish(t, 'r2', miniSchool(40, without));
    expect((await runFinished(roster.app, t, 'r2')).outcome).toBe('held');
    const discarded = await roster.rpc.call('discardHeldBatch')(
      { batchId: 'held-r2', comment: 'feed glitch' },
      t,
      'admin:9',
    );
    expect(discarded).toMatchObject({ status: 'discarded', decidedBy: 'admin:9', comment: 'feed glitch' });
    expect((await roster.app.store.loadStored(t)).activeCounts.pupil).toBe(40);
    await roster.publish(t, 'r3', miniSchool(40, without));
    expect(await runFinished(roster.app, t, 'r3')).toMatchObject({
      outcome: 'applied',
      heldCount: 0,
      discardedCount: 6,
    });
    // reappearance after a discard is a no-op
    await roster.publish(t, 'r4', miniSchool(40));
    expect(await runFinished(roster.app, t, 'r4')).toMatchObject({ outcome: 'applied', changeCount: 0 });
    expect((await roster.rpc.call('listHeldBatches')({}, t)).batches.map((b) => b.status)).toEqual([
      'discarded',
    ]);
  });

  it('a per-school threshold applies to later runs', async () => {
    const t = uniqueName('school');
    await seed(t);
    await roster.rpc.call('setRemovalThresholds')(
      {
        thresholds: {
          defaultThreshold: { percent: 10, min: 5 },
          byType: [{ entityType: 'pupil', threshold: { percent: 50, min: 5 } }],
        },
      },
      t,
      'admin:1',
    );
    await roster.publish(t, 'r2', miniSchool(40, { without: [1, 2, 3, 4, 5, 6] }));
    expect(await runFinished(roster.app, t, 'r2')).toMatchObject({
      outcome: 'applied',
      counts: { pupil: { removed: 6 } },
    });
  });
});

describe('dry runs, incomplete runs, grace', () => {
  it('a dry-run marker computes and stores the changeset but applies and publishes nothing', async () => {
    const t = uniqueName('school');
    await seed(t);
    await roster.publish(t, 'dry', miniSchool(40, { without: [1], extra: [pupil('600')] }), { dryRun: true });
    const cs = await runFinished(roster.app, t, 'dry');
    expect(cs).toMatchObject({ dryRun: true, outcome: 'applied', changeCount: 2 });
    const changes = await roster.rpc.call('listRunChanges')({ syncRunId: 'dry' }, t);
    expect(changes.changes.map((c) => `${c.change}:${c.entityId}`)).toEqual(['added:600', 'removed:1']);
    expect((await roster.app.store.loadStored(t)).activeCounts.pupil).toBe(40);
    const preview = await roster.rpc.call('dryRunSnapshot')({ syncRunId: 'dry' }, t);
    expect(preview).toMatchObject({ changeCount: 2, heldCount: 0 });
    const runs = await eventsFor(roster.h.events.runs, of(t, 'dry'), 1, 'dry report');
    expect(runs.map((e) => `${d(e).status}:${(e.data as { dryRun: boolean }).dryRun}`)).toEqual([
      'applied:true',
    ]);
    expect(roster.h.events.changes.filter(of(t, 'dry'))).toEqual([]);
  });

  it('a run whose chunks never complete fails after the timeout', async () => {
    const t = uniqueName('school');
    const { chunks, marker } = snapshotEvents(t, 'partial', miniSchool(5));
    await roster.h.producer.publish(roster.h.topics.raw, [...chunks.slice(1), marker]);
    const waiting = await eventually(
      () => roster.app.store.getChangeset(t, `${t}|partial`),
      'the partial run to be waiting for its chunks',
    );
    expect(waiting.state).toBe('waiting');
    await roster.app.sweep(new Date(Date.now() + 31 * 60_000));
    expect(await runFinished(roster.app, t, 'partial')).toMatchObject({
      state: 'done',
      outcome: 'failed',
      error: { code: 'ROSTER_RUN_TIMED_OUT' },
    });
    const runs = await eventsFor(roster.h.events.runs, of(t, 'partial'), 1, 'failed report');
    expect(d(runs[0]!)).toMatchObject({ status: 'failed', error: { code: 'ROSTER_RUN_TIMED_OUT' } });
  });

  it('every change event and its state record carry the same changeId and revision; revisions grow per entity', async () => {
    const t = uniqueName('school');
    await seed(t, 4);
    await roster.publish(t, 'r2', miniSchool(4, { renamed: { 2: 'Z' } }));
    await runFinished(roster.app, t, 'r2');
    await roster.publish(t, 'r3', miniSchool(4, { without: [2] }));
    await runFinished(roster.app, t, 'r3');
    type Rev = { changeset: number; change: number };
    const changes = (
      await eventsFor(
        roster.h.events.changes,
        (e) => e.tenantid === t && e.subject === 'pupil/2',
        3,
        'pupil 2',
      )
    ).map((e) => e.data as { change: string; changeId: string; revision: Rev });
    expect(changes.map((c) => c.change)).toEqual(['added', 'updated', 'removed']);
    const states = (
      await eventsFor(roster.h.events.state, (e) => e.tenantid === t && e.subject === 'pupil/2', 3, 'states')
    ).map((e) => e.data as { lastChangeId: string; revision: Rev });
    expect(states.map((s) => [s.lastChangeId, s.revision])).toEqual(
      changes.map((c) => [c.changeId, c.revision]),
    );
    // The school's changesets are numbered in the order they applied.
    expect(changes.map((c) => c.revision.changeset)).toEqual([1, 2, 3]);
  });

  it('purges a removed person after the grace period, publishes a data-less state record and a tombstone; a later reappearance is added', async () => {
    const t = uniqueName('school');
    await seed(t);
    await roster.publish(t, 'r2', miniSchool(40, { without: [9] }));
    await runFinished(roster.app, t, 'r2');
    expect(await roster.app.store.entity(t, 'pupil', '9')).toMatchObject({
      status: 'removed',
      purged: false,
      data: { surname: 'Q9' },
    });
    await roster.app.sweep(new Date(Date.now() + 13 * 86_400_000));
    expect(await roster.app.store.entity(t, 'pupil', '9')).toMatchObject({ purged: false });
    await roster.app.sweep(new Date(Date.now() + 15 * 86_400_000));
    expect(await roster.app.store.entity(t, 'pupil', '9')).toMatchObject({
      status: 'removed',
      purged: true,
      data: { id: '9' },
    });
    const state = await eventsFor(
      roster.h.events.state,
      (e) =>
        e.tenantid === t && e.subject === 'pupil/9' && (e.data as { status: string }).status === 'purged',
      1,
      'purged state',
    );
    expect(state[0]!.data).not.toHaveProperty('data');
    // The purge keeps the removal's revision: a subscriber can tell a stale replay from a re-addition.
    expect(state[0]!.data).toMatchObject({ revision: { changeset: 2 } });
    // Then a tombstone (null value, same key, same partition): compaction forgets the person's key.
    const key = `${t}/pupil/9`;
    const tombstoned = (rs: Awaited<ReturnType<typeof readTopic>>) =>
      rs.filter((r) => r.key?.toString() === key).at(-1)?.value === null;
    // `sweep` resolves once the broker acknowledged what it published: read up to the end offsets.
    const records = (await readTopic(roster.h.client, roster.h.topics.state)).filter(
      (r) => r.key?.toString() === key,
    );
    expect(records.map((r) => (r.value === null ? 'tombstone' : 'record'))).toEqual([
      'record',
      'record',
      'record',
      'tombstone',
    ]);
    expect(new Set(records.map((r) => r.partition)).size).toBe(1);
    expect(headerValue(records.at(-1)!.headers, 'ce_tenantid')).toBe(t);
    // A sweep that runs again (or re-publishes after a crash) leaves the key tombstoned.
    await roster.app.sweep(new Date(Date.now() + 16 * 86_400_000));
    expect(tombstoned(await readTopic(roster.h.client, roster.h.topics.state))).toBe(true);
    await roster.publish(t, 'r3', miniSchool(40));
    await runFinished(roster.app, t, 'r3');
    const back = await eventsFor(roster.h.events.changes, of(t, 'r3'), 1, 'r3 change');
    expect(back.map((e) => `${d(e).change}:${d(e).entityId}`)).toEqual(['added:9']);
  });
});

describe('RosterService queries', () => {
  it('lists, searches, filters and pages entities, tenant-scoped, and validates requests', async () => {
    const t = uniqueName('school');
    await seed(t, 12);
    const page1 = await roster.rpc.call('listEntities')({ entityType: 'pupil', page: { pageSize: 5 } }, t);
    expect(page1.entities.map((e) => e.entityId)).toEqual(['1', '2', '3', '4', '5']);
    expect(page1.page).toMatchObject({ totalSize: '12' });
    const page3 = await roster.rpc.call('listEntities')(
      { entityType: 'pupil', page: { pageSize: 5, pageToken: page1.page!.nextPageToken } },
      t,
    );
    expect(page3.entities.map((e) => e.entityId)).toEqual(['6', '7', '8', '9', '10']);
    const search = await roster.rpc.call('listEntities')({ entityType: 'pupil', query: 'q11' }, t);
    expect(search.entities.map((e) => JSON.parse(e.dataJson).surname)).toEqual(['Q11']);
    const filtered = await roster.rpc.call('listEntities')(
      { entityType: 'pupil', filters: [{ field: 'tutorStaffId', value: '1' }] },
      t,
    );
    expect(filtered.entities).toHaveLength(12);
    const staff = await roster.rpc.call('getEntity')({ entityType: 'staff', entityId: '2' }, t);
    expect(JSON.parse(staff.dataJson)).toMatchObject({ userCode: 'UC2', teaching: true });
    expect(
      (await roster.rpc.call('listEntities')({ entityType: 'pupil' }, uniqueName('other'))).entities,
    ).toEqual([]);
    await expect(
      roster.rpc.call('getEntity')({ entityType: 'staff', entityId: '2' }, uniqueName('other')),
    ).rejects.toMatchObject({ errorCode: 'ROSTER_ENTITY_NOT_FOUND' });
    await expect(roster.rpc.call('listEntities')({ entityType: 'teacher' }, t)).rejects.toMatchObject({
      errorCode: 'ROSTER_INVALID_ARGUMENT',
    });
    const run = await roster.rpc.call('getRun')({ syncRunId: 'seed' }, t);
    expect(run).toMatchObject({ state: 'done', outcome: 'applied', changeCount: 12 + 3 + 1 + 1 });
    // The stores join ids with `|`: a run or batch id holding one would name another record of the
    // school (`seed|undo` is the undo of run `seed`), so it is refused as an id.
    for (const call of [
      () => roster.rpc.call('getRun')({ syncRunId: 'seed|undo' }, t),
      () => roster.rpc.call('previewRunUndo')({ syncRunId: 'seed|undo' }, t),
      () => roster.rpc.call('getHeldBatch')({ batchId: 'held-seed|v1' }, t),
    ])
      await expect(call()).rejects.toMatchObject({ errorCode: 'ROSTER_INVALID_ARGUMENT' });
  });
});
