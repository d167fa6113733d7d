import { eventually, expireLease, getTestInfra } from '@isams-sync/testing';
import { datasetSnapshotCompletedV1 } from '@isams-sync/events';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { ConnectorApp } from '../../src/app';
import type { RunRecord } from '../../src/domain/run-record';
import {
  connectorTest as it,
  enrolSchools,
  runReaching,
  readAll,
  readCollection,
  readRun,
  useSimulatorAndEnv,
} from '../support/connector-harness';
import type { ConnectorFleet } from '../support/connector-harness';

const keyFor = (i: number) => `{DDDDDDDD-0000-0000-0000-${String(i).padStart(12, '0')}}`;
type Step = 'chunks-published' | 'marker-attempted';
/** What replica B makes of a run replica A stalled at each step (and the name of the wait for it). */
const TAKE_OVER: Record<Step, { status: 'failed' | 'published'; what: string }> = {
  'chunks-published': { status: 'failed', what: 'replica B to fail the interrupted run' },
  'marker-attempted': { status: 'published', what: 'replica B to re-send the marker' },
};

describe('connector: a replica that stalls past its run lease', () => {
  const world = useSimulatorAndEnv();
  let mongo: MongoClient;

  beforeAll(async () => {
    mongo = await new MongoClient(getTestInfra().mongoUrl).connect();
    await enrolSchools(world.env, world.sim, ['stall-before-marker', 'stall-after-marker'], (_, i) => ({
      seed: 70 + i,
      size: 'small',
      apiKey: keyFor(i),
    }));
  });
  afterAll(async () => {
    await mongo?.close();
  });

  /**
   * Starts replica A (each test its own replicas), starts a run of `tenantId` on it and stalls A at
   * `step`; then A's lease expires and replica B's sweep takes over. A stays paused until `wake()`
   * (or the end of the test: a paused replica could not stop).
   */
  async function stallAndTakeOver(
    connectors: ConnectorFleet,
    tenantId: string,
    step: Step,
  ): Promise<{ a: ConnectorApp; runId: string; wake: () => void }> {
    let arrived!: () => void;
    let wake!: () => void;
    const isPaused = new Promise<void>((r) => (arrived = r));
    const gate = new Promise<void>((r) => (wake = r));
    connectors.onStop(() => wake());
    const { env } = world;
    let paused = false;
    // A lease long enough that only the test ends it, even on a busy machine.
    const a = await connectors.start(env.env({ SCHEDULER_ENABLED: 'false', RUN_LEASE_TTL_MS: '30s' }), {
      owner: 'replica-a',
      onStep: async (at, run) => {
        if (paused || run.tenantId !== tenantId || at !== step) return;
        paused = true;
        arrived();
        await gate;
      },
    });
    const c = connectors.client(a.grpcPort);
    const { run } = await c.triggerSync({}, c.md(tenantId));
    await isPaused;
    // The stall outlasts A's lease: its generation expires and its last heartbeat is old.
    const db = mongo.db(env.mongoDb);
    // (Written until it stands: A's keeper, not stalled, may have a renewal in flight — expireLease.)
    await expireLease(db.collection('run_leases'), { key: `run:${tenantId}` });
    await db
      .collection<RunRecord>('sync_runs')
      .updateOne({ _id: run!.syncRunId }, { $set: { heartbeatAt: new Date(Date.now() - 3_600_000) } });
    await connectors.start(env.env({ SCHEDULER_ENABLED: 'false', RUN_LEASE_TTL_MS: '30s' }), {
      owner: 'replica-b',
    });
    return { a, runId: run!.syncRunId, wake };
  }

  /** The school's schedule (what a failed run's back-off writes). */
  const scheduleOf = async (tenantId: string) => {
    const [s] = await readCollection(world.env, 'sync_schedules', { _id: tenantId });
    return { nextRunAt: s?.nextRunAt as unknown, consecutiveFailures: s?.consecutiveFailures as unknown };
  };
  const markersOf = async (runId: string) =>
    (await readAll(world.env.rawTopic)).filter(
      (m) =>
        m.event.type === datasetSnapshotCompletedV1.type &&
        (m.event.data as { syncRunId: string }).syncRunId === runId,
    );
  const decidedBy = async (runId: string, step: string) =>
    (await readCollection(world.env, 'run_steps', { _id: `${runId}|${step}` }))[0]?.fence as
      { token: number } | undefined;

  /**
   * {@link stallAndTakeOver}, then: replica B brings the run to what {@link TAKE_OVER} says for
   * `step`, the school's schedule is noted, and A, woken, gives the run up. Returns the run as B left
   * it and the schedule noted before A woke.
   */
  async function takeOverThenWake(connectors: ConnectorFleet, tenantId: string, step: Step) {
    const { a, runId, wake } = await stallAndTakeOver(connectors, tenantId, step);
    const signal = connectors.signal;
    const { status, what } = TAKE_OVER[step];
    const reached = await runReaching(world.env, tenantId, runId, [status], what, { signal });
    const schedule = await scheduleOf(tenantId);

    wake();
    await eventually(async () => a.engine.activeRunIds().length === 0, 'replica A to give the run up', {
      signal,
    });
    return { runId, reached, schedule };
  }

  it('stalled after publishing its chunks: the other replica fails the run; the stalled one’s marker attempt is refused and no marker is sent', async ({
    connectors,
  }) => {
    const t = 'stall-before-marker';
    const { runId, reached, schedule } = await takeOverThenWake(connectors, t, 'chunks-published');
    expect(reached.error?.code).toBe('CONNECTOR_RUN_INTERRUPTED');
    const after = await readRun(world.env, t, runId);
    expect(after).toMatchObject({ status: 'failed', error: { code: 'CONNECTOR_RUN_INTERRUPTED' } });
    expect(after?.markerAttemptedAt).toBeUndefined();
    expect(await markersOf(runId)).toHaveLength(0);
    expect((await decidedBy(runId, 'fetched'))?.token).toBe(2);
    expect(await readCollection(world.env, 'active_runs', { _id: t })).toEqual([]);
    // Nor did it back the school's schedule off for a failure that was not its to record.
    expect(await scheduleOf(t)).toEqual(schedule);
  });

  it('stalled after attempting the marker: the other replica re-sends it and completes the run; the stalled one sends nothing more', async ({
    connectors,
  }) => {
    const t = 'stall-after-marker';
    const { runId, reached, schedule } = await takeOverThenWake(connectors, t, 'marker-attempted');
    const after = await readRun(world.env, t, runId);
    expect(after).toMatchObject({ status: 'published', publishedAt: reached.publishedAt });
    const markers = await markersOf(runId);
    expect(markers).toHaveLength(1);
    // The re-sent marker has the fetch sequence the run took as A started it.
    expect(after?.fetchSequence).toBeGreaterThanOrEqual(1);
    expect((markers[0]!.event.data as { fetchSequence?: number }).fetchSequence).toBe(after?.fetchSequence);
    expect((await decidedBy(runId, 'marker-attempted'))?.token).toBe(2);
    // The run was published: the stalled replica does not back the schedule off as if it had failed.
    expect(await scheduleOf(t)).toEqual(schedule);
  });
});
