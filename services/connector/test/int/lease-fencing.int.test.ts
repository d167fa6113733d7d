import { startSimulator, getTestInfra, type SimulatorProcess } from '@isams-sync/testing';
import { datasetSnapshotCompletedV1 } from '@isams-sync/events';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectorApp } from '../../src/app';
import type { RunDocument } from '../../src/adapters/mongo/runs-repository';
import {
  connectorClient,
  connectorTestEnv,
  readAll,
  readCollection,
  readRun,
  startConnector,
  waitFor,
} from '../support/connector-harness';
import type { ConnectorTestEnv } from '../support/connector-harness';

const keyFor = (i: number) => `{DDDDDDDD-0000-0000-0000-${String(i).padStart(12, '0')}}`;
type Step = 'chunks-published' | 'marker-attempted';

describe('connector: a replica that stalls past its run lease', () => {
  let sim: SimulatorProcess;
  let env: ConnectorTestEnv;
  let mongo: MongoClient;
  let a: ConnectorApp;
  let b: ConnectorApp;
  let pause: { tenantId: string; step: Step; arrived: () => void; gate: Promise<void> } | undefined;

  beforeAll(async () => {
    sim = await startSimulator();
    env = connectorTestEnv();
    mongo = await new MongoClient(getTestInfra().mongoUrl).connect();
    // A lease long enough that only the test ends it, even on a busy machine.
    a = await startConnector(env.env({ SCHEDULER_ENABLED: 'false', RUN_LEASE_TTL_MS: '30s' }), {
      owner: 'replica-a',
      onStep: async (step, run) => {
        const p = pause;
        if (p === undefined || p.tenantId !== run.tenantId || p.step !== step) return;
        pause = undefined;
        p.arrived();
        await p.gate;
      },
    });
    const c = connectorClient(a.grpcPort);
    for (const [i, t] of ['stall-before-marker', 'stall-after-marker'].entries()) {
      await sim.createSchool(t, { seed: 70 + i, size: 'small', apiKey: keyFor(i) });
      await c.putSettings({ isamsUrl: sim.url, apiKey: keyFor(i), enabled: true }, c.md(t));
    }
    c.close();
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await mongo?.close();
    await sim?.stop();
    await env?.dropDatabase();
  });

  /** Starts a run on replica A and stalls A at `step`; then A's lease expires and replica B's sweep takes over. */
  async function stallAndTakeOver(
    tenantId: string,
    step: Step,
  ): Promise<{ runId: string; wake: () => void }> {
    let arrived!: () => void;
    let wake!: () => void;
    const isPaused = new Promise<void>((r) => (arrived = r));
    pause = { tenantId, step, arrived, gate: new Promise<void>((r) => (wake = r)) };
    const c = connectorClient(a.grpcPort);
    const { run } = await c.triggerSync({}, c.md(tenantId));
    c.close();
    await isPaused;
    // The stall outlasts A's lease: its generation expires and its last heartbeat is old.
    const db = mongo.db(env.mongoDb);
    await db
      .collection<{ _id: string; key: string }>('run_leases')
      .updateMany({ key: `run:${tenantId}` }, { $set: { expiresAt: new Date(Date.now() - 1) } });
    await db
      .collection<RunDocument>('sync_runs')
      .updateOne({ _id: run!.syncRunId }, { $set: { heartbeatAt: new Date(Date.now() - 3_600_000) } });
    b ??= await startConnector(env.env({ SCHEDULER_ENABLED: 'false', RUN_LEASE_TTL_MS: '30s' }), {
      owner: 'replica-b',
    });
    return { runId: run!.syncRunId, wake };
  }

  const markersOf = async (runId: string) =>
    (await readAll(env.rawTopic)).filter(
      (m) =>
        m.event.type === datasetSnapshotCompletedV1.type &&
        (m.event.data as { syncRunId: string }).syncRunId === runId,
    );
  const decidedBy = async (runId: string, step: string) =>
    (await readCollection(env, 'run_steps', { _id: `${runId}|${step}` }))[0]?.fence as
      { token: number } | undefined;

  it('stalled after publishing its chunks: the other replica fails the run; the stalled one’s marker attempt is refused and no marker is sent', async () => {
    const t = 'stall-before-marker';
    const { runId, wake } = await stallAndTakeOver(t, 'chunks-published');
    const failed = await waitFor(async () => {
      const r = await readRun(env, t, runId);
      return r?.status === 'failed' ? r : undefined;
    }, 'replica B to fail the interrupted run');
    expect(failed.error?.code).toBe('CONNECTOR_RUN_INTERRUPTED');

    wake();
    await waitFor(async () => a.engine.activeRunIds().length === 0, 'replica A to give the run up');
    const after = await readRun(env, t, runId);
    expect(after).toMatchObject({ status: 'failed', error: { code: 'CONNECTOR_RUN_INTERRUPTED' } });
    expect(after?.markerAttemptedAt).toBeUndefined();
    expect(await markersOf(runId)).toHaveLength(0);
    expect((await decidedBy(runId, 'fetched'))?.token).toBe(2);
    expect(await readCollection(env, 'active_runs', { _id: t })).toEqual([]);
  });

  it('stalled after attempting the marker: the other replica re-sends it and completes the run; the stalled one sends nothing more', async () => {
    const t = 'stall-after-marker';
    const { runId, wake } = await stallAndTakeOver(t, 'marker-attempted');
    const published = await waitFor(async () => {
      const r = await readRun(env, t, runId);
      return r?.status === 'published' ? r : undefined;
    }, 'replica B to re-send the marker');

    wake();
    await waitFor(async () => a.engine.activeRunIds().length === 0, 'replica A to give the run up');
    expect(await readRun(env, t, runId)).toMatchObject({
      status: 'published',
      publishedAt: published.publishedAt,
    });
    expect(await markersOf(runId)).toHaveLength(1);
    expect((await decidedBy(runId, 'marker-attempted'))?.token).toBe(2);
  });
});
