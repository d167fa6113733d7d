import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudEvent } from '@isams-sync/events';
import { eventually, uniqueName } from '@isams-sync/testing';
import type { RosterApp } from '../src/app';
import { RosterStore } from '../src/adapters/mongo/roster-store';
import type { ProcessingStep } from '../src/use-cases/changeset-processor';
import { createHarness, runFinished, storedRoster } from './support/harness';
import type { Harness } from './support/harness';
import { miniSchool } from './support/mini-school';
import { pupil } from './support/raw';
import { publishSnapshot } from './support/school-feed';

// 600 pupils: the first run's changeset spans two change chunks (500 each), so a crash between
// publish batches is exercised too.
const FIRST = () => miniSchool(600);
const SECOND = () =>
  miniSchool(600, {
    without: [1, 2, 3],
    extra: [pupil('900'), pupil('901')],
    renamed: { 10: 'R10', 11: 'R11' },
  });
const STEPS: ProcessingStep[] = [
  'stage',
  'diff',
  'report-applying',
  'apply',
  'publish',
  'publish-batch',
  'report-outcome',
];

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => h?.close());

const key = (e: CloudEvent) => `${e.type}|${e.subject ?? ''}|${e.syncrunid ?? ''}|${e.id.length}`;
const idsOf = (list: CloudEvent[], tenantId: string) => list.filter((e) => e.tenantid === tenantId);
const rosterOf = (tenantId: string) => storedRoster(new RosterStore(h.db.db), tenantId);

/** Runs both snapshots for `tenantId`; if `crashAt` is set, the first process dies right before that step of run `crashRun`. */
async function scenario(tenantId: string, crash?: { step: ProcessingStep; run: string }): Promise<RosterApp> {
  let crashed = false;
  let app = await h.startApp({
    ...(crash
      ? {
          beforeStep: (() => {
            let seen = 0;
            return (step: ProcessingStep, changesetId: string) => {
              if (changesetId !== `${tenantId}|${crash.run}`) return;
              // after the crash this "process" is dead for that changeset (a redelivered marker must not finish it here)
              if (crashed) throw new Error('process already crashed');
              if (step !== crash.step) return;
              seen += 1;
              // publish-batch: die before the SECOND batch (after the first was acknowledged and its cursor saved)
              if (step === 'publish-batch' && seen < 2) return;
              crashed = true;
              throw new Error(`simulated crash before ${step}`);
            };
          })(),
        }
      : {}),
  });
  try {
    for (const [run, data] of [
      ['run-a', FIRST()],
      ['run-b', SECOND()],
    ] as const) {
      await publishSnapshot(h.producer, h.topics.raw, tenantId, run, data);
      if (crash?.run === run) {
        // the first process stops where it crashed; a new process resumes from the persisted state
        await eventually(() => (crashed ? true : undefined), 'the simulated crash', { timeoutMs: 90_000 });
        await app.idle();
        const cs = await app.store.getChangeset(tenantId, `${tenantId}|${run}`);
        expect(cs?.state).not.toBe('done');
        await app.stop();
        app = await h.startApp();
      }
      expect((await runFinished(app, tenantId, run)).state).toBe('done');
    }
    return app;
  } catch (err) {
    await app.stop();
    throw err;
  }
}

describe('crash at every step and restart: same state, same events, no gap', () => {
  const reference = uniqueName('ref');

  it('reference run without a crash', async () => {
    const app = await scenario(reference);
    await eventually(
      () => (idsOf(h.events.runs, reference).length >= 4 ? true : undefined),
      'reference reports',
      { timeoutMs: 90_000 },
    );
    await app.stop();
  });

  for (const run of ['run-a', 'run-b']) {
    for (const step of STEPS) {
      if (run === 'run-b' && step === 'publish-batch') continue; // run-b has one chunk
      it(`crash before ${step} of ${run}`, async () => {
        const tenantId = uniqueName('crash');
        const app = await scenario(tenantId, { step, run });
        await app.stop();
        expect(await rosterOf(tenantId)).toEqual(await rosterOf(reference));
        const want = new Set(idsOf(h.events.changes, reference).map(key));
        const got = await eventually(
          () => {
            const s = new Set(idsOf(h.events.changes, tenantId).map(key));
            return [...want].every((k) => s.has(k)) ? s : undefined;
          },
          'all change events',
          { timeoutMs: 90_000 },
        );
        expect([...got].sort()).toEqual([...want].sort());
        const wantState = new Set(idsOf(h.events.state, reference).map(key));
        await eventually(
          () => {
            const s = new Set(idsOf(h.events.state, tenantId).map(key));
            return [...wantState].every((k) => s.has(k)) && s.size === wantState.size ? s : undefined;
          },
          'all state records',
          { timeoutMs: 90_000 },
        );
        const runs = await eventually(
          () => {
            const r = idsOf(h.events.runs, tenantId).map(
              (e) =>
                `${e.syncrunid}:${(e.data as { sequence: number }).sequence}:${(e.data as { status: string }).status}`,
            );
            return new Set(r).size >= 4 ? new Set(r) : undefined;
          },
          'run reports',
          { timeoutMs: 90_000 },
        );
        expect([...runs].sort()).toEqual([
          'run-a:1:applying',
          'run-a:2:applied',
          'run-b:1:applying',
          'run-b:2:applied',
        ]);
      }, 120_000);
    }
  }
});

describe('the sweeper finds unfinished changesets through openChangesets', () => {
  it('a run interrupted in the same process is finished by the next sweep; finished runs leave no entry', async () => {
    const tenantId = uniqueName('sweep');
    let failOnce = true;
    const app = await h.startApp({
      beforeStep: (step) => {
        if (step === 'apply' && failOnce) {
          failOnce = false;
          throw new Error('simulated failure before apply');
        }
      },
    });
    const store = new RosterStore(h.db.db);
    await publishSnapshot(h.producer, h.topics.raw, tenantId, 'run-1', miniSchool(20));
    const stuck = await eventually(
      async () => {
        const open = await store.unfinishedChangesets();
        return open.find((c) => c.tenantId === tenantId && c.state === 'applying');
      },
      'the run to stop before apply',
      { timeoutMs: 90_000 },
    );
    expect(stuck.syncRunId).toBe('run-1');
    await app.sweep();
    const cs = await runFinished(app, tenantId, 'run-1');
    expect(cs).toMatchObject({ state: 'done', outcome: 'applied' });
    expect((await store.unfinishedChangesets()).filter((c) => c.tenantId === tenantId)).toEqual([]);
    const entries = await h.db.db.collection('openChangesets').find({ tenantId }).toArray();
    expect(entries).toEqual([]);
    expect((await rosterOf(tenantId)).filter((e) => e.t === 'pupil')).toHaveLength(20);
    await app.stop();
  });

  it('on start, an unfinished changeset missing from openChangesets is listed again and resumed', async () => {
    const tenantId = uniqueName('rebuild');
    const first = await h.startApp({
      beforeStep: (step) => {
        if (step === 'apply') throw new Error('simulated crash before apply');
      },
    });
    await publishSnapshot(h.producer, h.topics.raw, tenantId, 'run-1', miniSchool(20));
    const store = new RosterStore(h.db.db);
    await eventually(
      async () => {
        const cs = await store.getChangeset(tenantId, `${tenantId}|run-1`);
        return cs?.state === 'applying' ? cs : undefined;
      },
      'the run to stop before apply',
      { timeoutMs: 90_000 },
    );
    await first.stop();
    // As if written by a version without the list (or lost): only the start-up rebuild can find it.
    await h.db.db.collection('openChangesets').deleteOne({ _id: `${tenantId}|run-1` as never });
    const second = await h.startApp();
    const cs = await runFinished(second, tenantId, 'run-1');
    expect(cs).toMatchObject({ state: 'done', outcome: 'applied' });
    expect(await h.db.db.collection('openChangesets').countDocuments({ tenantId })).toBe(0);
    await second.stop();
  });
});
