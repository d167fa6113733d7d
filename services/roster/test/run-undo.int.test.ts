import { describe, expect, it } from 'vitest';
import { eventually, uniqueName } from '@isams-sync/testing';
import { eventsFor, runFinished, publishedData as d } from './support/harness';
import { miniSchool } from './support/mini-school';
import { rosterClient } from './support/grpc-client';
import { useStartedRoster } from './support/started-roster';

const roster = useStartedRoster();

async function run(t: string, runId: string, without: number[] = []) {
  await roster.publish(t, runId, miniSchool(40, { without }));
  return runFinished(roster.app, t, runId);
}

describe('undo a run (real Kafka + FerretDB)', () => {
  it('restores everyone the run removed, publishes `restored` (run_undone, who), once; what came back or was removed later is skipped', async () => {
    const t = uniqueName('school');
    expect((await run(t, 'seed')).outcome).toBe('applied');
    // r2 removes pupils 1–3 (under the threshold: applied).
    expect(await run(t, 'r2', [1, 2, 3])).toMatchObject({
      outcome: 'applied',
      counts: { pupil: { removed: 3 } },
    });
    // r3: pupil 1 is back in the feed; pupil 4 leaves (removed by r3, not r2).
    expect(await run(t, 'r3', [2, 3, 4])).toMatchObject({
      outcome: 'applied',
      counts: { pupil: { restored: 1, removed: 1 } },
    });

    const preview = await roster.rpc.call('previewRunUndo')({ syncRunId: 'r2' }, t);
    expect(preview).toMatchObject({ syncRunId: 'r2', status: 'possible', undoneBy: '' });
    expect(preview.restore.map((r) => `${r.entityType}/${r.entityId}`)).toEqual(['pupil/2', 'pupil/3']);
    expect(preview.skipped).toEqual([{ reason: 'active_again', count: 1 }]);
    expect(new Date(preview.expiresAt).getTime()).toBeGreaterThan(Date.now() + 13 * 86_400_000);

    const undone = await roster.rpc.call('undoRun')(
      { syncRunId: 'r2', comment: 'feed glitch' },
      t,
      'admin:3',
    );
    // Answered at once; the undo applies in the background.
    expect(undone).toMatchObject({ status: 'undoing', undoneBy: 'admin:3', comment: 'feed glitch' });
    expect(undone.restore.map((r) => r.entityId)).toEqual(['2', '3']);
    await roster.app.idle();
    const restored = await eventsFor(
      roster.h.events.changes,
      (e) => e.tenantid === t && d(e).change === 'restored' && d(e).restoration !== undefined,
      2,
      'restored events of the undo',
    );
    expect(restored.map((e) => [e.syncrunid, d(e).entityId, d(e).restoration])).toEqual([
      ['r2', '2', { reason: 'run_undone', undoneBy: 'admin:3' }],
      ['r2', '3', { reason: 'run_undone', undoneBy: 'admin:3' }],
    ]);
    const stored = await roster.app.store.loadStored(t);
    expect(stored.activeCounts.pupil).toBe(39); // only pupil 4 (removed by r3) is still removed
    expect(stored.stored.pupil?.get('4')?.status).toBe('removed');

    // Undoing again is undoing once: same record, no second round of events.
    const again = await roster.rpc.call('undoRun')({ syncRunId: 'r2', comment: 'again' }, t, 'admin:9');
    expect(again).toMatchObject({ status: 'undone', undoneBy: 'admin:3', comment: 'feed glitch' });
    expect(
      new Set(
        roster.h.events.changes
          .filter((e) => e.tenantid === t && d(e).restoration !== undefined)
          .map((e) => e.id),
      ).size,
    ).toBe(2);
    // The run's own report is untouched by the undo.
    expect(
      roster.h.events.runs
        .filter((e) => e.tenantid === t && e.syncrunid === 'r2')
        .map((e) => (e.data as { status: string }).status),
    ).toEqual(['applying', 'applied']);
  });

  it('undo records the request and answers at once (status undoing); the undo applies in the background', async () => {
    const t = uniqueName('school');
    expect((await run(t, 'seed')).outcome).toBe('applied');
    expect((await run(t, 'r2', [5, 6, 7])).outcome).toBe('applied');
    await roster.withPausedApp(`${t}|r2|undo`, 'apply', async ({ app, rpc, pause }) => {
      // The apply is paused until the answer arrived: an undo that waited for it would never answer.
      const answer = await rpc.call('undoRun')({ syncRunId: 'r2', comment: 'glitch' }, t, 'admin:1');
      expect(answer).toMatchObject({
        syncRunId: 'r2',
        status: 'undoing',
        undoneBy: 'admin:1',
        comment: 'glitch',
      });
      await eventually(() => (pause.reached ? true : undefined), 'the undo reaching its apply step');
      expect((await rpc.call('previewRunUndo')({ syncRunId: 'r2' }, t)).status).toBe('undoing');
      pause.release();
      await app.idle();
      const done = await rpc.call('previewRunUndo')({ syncRunId: 'r2' }, t);
      expect(done).toMatchObject({ status: 'undone', undoneBy: 'admin:1' });
      expect(done.restore.map((r) => r.entityId)).toEqual(['5', '6', '7']);
      expect((await roster.app.store.loadStored(t)).activeCounts.pupil).toBe(40);
    });
  });

  it('a crash in the middle of an undo (restored in the store, nothing published yet) is finished by the next undo: same state, each event once', async () => {
    const t = uniqueName('school');
    expect((await run(t, 'seed')).outcome).toBe('applied');
    expect((await run(t, 'r2', [5, 6, 7])).outcome).toBe('applied');
    const crashing = await roster.h.startApp({
      beforeStep: (step, changesetId) => {
        if (changesetId === `${t}|r2|undo` && step === 'publish')
          throw new Error('simulated crash before publish');
      },
    });
    const rpc = rosterClient(crashing.grpcPort);
    try {
      // Answered at once; the background work then "crashes" before publishing.
      expect(
        await rpc.call('undoRun')({ syncRunId: 'r2', comment: 'first try' }, t, 'admin:1'),
      ).toMatchObject({ status: 'undoing' });
      await crashing.idle();
      expect((await roster.app.store.getChangeset(t, `${t}|r2|undo`))?.state).toBe('publishing');
    } finally {
      rpc.close();
      await crashing.stop();
    }
    const retried = await roster.rpc.call('undoRun')({ syncRunId: 'r2', comment: 'retry' }, t, 'admin:2');
    expect(retried).toMatchObject({ status: 'undoing', undoneBy: 'admin:1', comment: 'first try' });
    await roster.app.idle();
    expect(await roster.rpc.call('previewRunUndo')({ syncRunId: 'r2' }, t)).toMatchObject({
      status: 'undone',
      undoneBy: 'admin:1',
    });
    const restored = await eventsFor(
      roster.h.events.changes,
      (e) => e.tenantid === t && d(e).restoration !== undefined,
      3,
      'the undo’s restored events',
    );
    expect(restored.map((e) => d(e).entityId).sort()).toEqual(['5', '6', '7']);
    expect((await roster.app.store.loadStored(t)).activeCounts.pupil).toBe(40);
  });

  it('refuses a dry run or an unknown run with a clear error', async () => {
    const t = uniqueName('school');
    await expect(roster.rpc.call('previewRunUndo')({ syncRunId: 'nope' }, t)).rejects.toMatchObject({
      errorCode: 'ROSTER_RUN_NOT_FOUND',
    });
  });
});
