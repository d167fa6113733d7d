import { eventually } from '@isams-sync/testing';
import { datasetSnapshotCompletedV1, rawDatasetChunkV1 } from '@isams-sync/events';
import { beforeAll, describe, expect } from 'vitest';
import {
  connectorTest as it,
  enrolSchools,
  runReaching,
  readAll,
  deleteFromCollection,
  readCollection,
  readRun,
  useSimulatorAndEnv,
} from '../support/connector-harness';
import type { ConnectorFleet } from '../support/connector-harness';
import type { RunStatus } from '../../src/domain/sync-run';

const keyFor = (i: number) => `{CCCCCCCC-0000-0000-0000-${String(i).padStart(12, '0')}}`;
const MAX_CHUNK = 64 * 1024;
// Hang guards, not timing assertions: a large school's run waits up to RUN_WAIT_MS, and each test's
// timeout covers the waits it makes (a large run took 3–9 s alone, over 60 s under a loaded suite).
const RUN_WAIT_MS = 120_000;
const RECOVERY_WAIT_MS = 60_000;

// One simulator and database for the file, with every test's school enrolled up front. Each test
// starts its own connectors (`connectors`), stopped when it ends, also on a time-out.
const world = useSimulatorAndEnv();

beforeAll(async () => {
  const schools = [
    'large',
    'kill',
    'crash-before-marker',
    'crash-at-marker',
    'crash-requested',
    'lost-entry',
  ];
  await enrolSchools(world.env, world.sim, schools, (t, i) => ({
    seed: 100 + i,
    size: t === 'large' || t === 'kill' ? 'large' : 'small',
    apiKey: keyFor(i),
  }));
});

/**
 * Triggers a run of `tenantId` on a connector process that SIGKILLs itself at `step`
 * (`CONNECTOR_TEST_CRASH_AT`); resolves with the run — or rejects when the trigger itself was not
 * answered — once the process is gone.
 */
async function runCrashingAt(connectors: ConnectorFleet, step: string, tenantId: string) {
  const proc = await connectors.startProcess(
    world.env.env({ SCHEDULER_ENABLED: 'false', CONNECTOR_TEST_CRASH_AT: step }),
  );
  const c = connectors.client(proc.grpcPort);
  try {
    return (await c.triggerSync({}, c.md(tenantId))).run!;
  } finally {
    await proc.exited;
  }
}

/**
 * The next process: a connector started (scheduler off) that brings the run to one of `statuses`
 * within RECOVERY_WAIT_MS (`what` names the wait); returns the connector and the run.
 */
async function recoveredBy(
  connectors: ConnectorFleet,
  tenantId: string,
  runId: string,
  statuses: readonly RunStatus[],
  what: string,
) {
  const app = await connectors.start(world.env.env({ SCHEDULER_ENABLED: 'false' }));
  const run = await runReaching(world.env, tenantId, runId, statuses, what, {
    timeoutMs: RECOVERY_WAIT_MS,
    signal: connectors.signal,
  });
  return { app, run };
}

/** Triggers a run of the large school on `app` and waits until it was published or failed. */
async function largeRun(connectors: ConnectorFleet, app: { grpcPort: number }, what: string) {
  const client = connectors.client(app.grpcPort);
  const { run } = await client.triggerSync({}, client.md('large'));
  const done = await eventually(
    async () => {
      const r = await client.getSyncRun({ syncRunId: run!.syncRunId }, client.md('large'));
      return r.status === 'published' || r.status === 'failed' ? r : undefined;
    },
    what,
    { timeoutMs: RUN_WAIT_MS, signal: connectors.signal },
  );
  return { run: run!, done };
}

describe('connector: chunking a large school', () => {
  it(
    'splits a large school into chunks no bigger than MAX_CHUNK_BYTES, in order, losslessly counted',
    { timeout: RUN_WAIT_MS + 60_000 },
    async ({ connectors }) => {
      const { env } = world;
      const app = await connectors.start(
        env.env({ SCHEDULER_ENABLED: 'false', MAX_CHUNK_BYTES: String(MAX_CHUNK) }),
      );
      const { run, done } = await largeRun(connectors, app, 'large run');
      expect(done.status).toBe('published');
      const msgs = (await readAll(env.rawTopic)).filter((m) => m.event.syncrunid === run.syncRunId);
      const chunks = msgs.filter((m) => m.event.type === rawDatasetChunkV1.type);
      expect(chunks.length).toBeGreaterThan(20);
      for (const m of chunks) expect(m.bytes).toBeLessThanOrEqual(MAX_CHUNK);
      const marker = datasetSnapshotCompletedV1.parse(
        msgs.find((m) => m.event.type === datasetSnapshotCompletedV1.type)!.event,
      );
      const setLists = marker.data.datasets.find((d) => d.datasetId === 'teachingSetLists')!;
      expect(setLists.chunkCount).toBeGreaterThan(1);
      const parsed = chunks
        .map((m) => rawDatasetChunkV1.parse(m.event).data)
        .filter((c) => c.datasetId === 'teachingSetLists');
      parsed.sort((x, y) => x.chunkIndex - y.chunkIndex);
      expect(parsed.map((c) => c.chunkIndex)).toEqual([...Array(setLists.chunkCount).keys()]);
      let ordinal = 0;
      for (const c of parsed) {
        expect(c.firstRecordOrdinal).toBe(ordinal);
        ordinal += c.records.length;
      }
      expect(ordinal).toBe(setLists.recordCount);
      // Event ids are deterministic per (run, dataset, fingerprint, chunk): all distinct within the run.
      expect(new Set(chunks.map((m) => m.event.id)).size).toBe(chunks.length);
      // Each dataset went out once (no container of it came twice), and publishing began while the
      // document was still being read: the run's first chunk reached the broker before the fetch
      // ended (a first sync publishes each dataset once its container ends).
      expect(chunks).toHaveLength(marker.data.datasets.reduce((n, d) => n + d.chunkCount, 0));
      expect(Math.min(...chunks.map((m) => m.timestamp))).toBeLessThan(Date.parse(done.fetchedAt));
    },
  );
});

/** The run's marker datasets and every chunk's records, by dataset and chunk index (ids aside). */
async function publishedRun(connectors: ConnectorFleet, parseWorkers: string) {
  const { env } = world;
  const app = await connectors.start(
    env.env({
      SCHEDULER_ENABLED: 'false',
      MAX_CHUNK_BYTES: String(MAX_CHUNK),
      CONNECTOR_PARSE_WORKERS: parseWorkers,
    }),
  );
  try {
    const { run, done } = await largeRun(connectors, app, `large run, ${parseWorkers} parse workers`);
    expect(done.status).toBe('published');
    const msgs = (await readAll(env.rawTopic)).filter((m) => m.event.syncrunid === run.syncRunId);
    const marker = datasetSnapshotCompletedV1.parse(
      msgs.find((m) => m.event.type === datasetSnapshotCompletedV1.type)!.event,
    );
    const chunks = new Map<string, unknown[]>();
    for (const m of msgs.filter((x) => x.event.type === rawDatasetChunkV1.type)) {
      const c = rawDatasetChunkV1.parse(m.event).data;
      chunks.set(`${c.datasetId}#${c.chunkIndex}`, [c.firstRecordOrdinal, c.datasetFingerprint, c.records]);
    }
    return { datasets: marker.data.datasets, findings: marker.data.findings, chunks };
  } finally {
    await connectors.stop(app);
  }
}

describe('connector: the parse on a worker thread', () => {
  it(
    'CONNECTOR_PARSE_WORKERS=1 publishes the very chunks and marker the parse on the main thread does',
    { timeout: 2 * RUN_WAIT_MS + 60_000 },
    async ({ connectors }) => {
      const here = await publishedRun(connectors, '0');
      const worker = await publishedRun(connectors, '1');
      expect(here.chunks.size).toBeGreaterThan(20);
      expect(worker.datasets).toEqual(here.datasets);
      expect(worker.findings).toEqual(here.findings);
      expect([...worker.chunks.keys()].sort()).toEqual([...here.chunks.keys()].sort());
      for (const [key, chunk] of here.chunks) expect(worker.chunks.get(key), key).toEqual(chunk);
    },
  );
});

describe('connector: a process killed or crashing at any moment of a run', () => {
  it(
    'kill -9 mid-publish: the run is failed as interrupted, no marker exists, and the next run publishes',
    { timeout: 2 * RUN_WAIT_MS + RECOVERY_WAIT_MS + 60_000 },
    async ({ connectors }) => {
      const { env } = world;
      const proc = await connectors.startProcess(
        env.env({
          SCHEDULER_ENABLED: 'false',
          MAX_CHUNK_BYTES: String(16 * 1024),
          CONNECTOR_TEST_OWNER: 'doomed',
        }),
      );
      const c = connectors.client(proc.grpcPort);
      const { run } = await c.triggerSync({}, c.md('kill'));
      const id = run!.syncRunId;
      await eventually(
        async () => {
          const r = await c.getSyncRun({ syncRunId: id }, c.md('kill'));
          return r.status === 'fetched' && (r.progress?.chunksPublished ?? 0) > 0;
        },
        'publishing under way',
        { timeoutMs: RUN_WAIT_MS, signal: connectors.signal },
      );
      await proc.kill();

      const app = await connectors.start(env.env({ SCHEDULER_ENABLED: 'false' }), { owner: 'survivor' });
      const client = connectors.client(app.grpcPort);
      const failed = await eventually(
        async () => {
          const r = await client.getSyncRun({ syncRunId: id }, client.md('kill'));
          return r.status === 'failed' ? r : undefined;
        },
        'interrupted run failed',
        { timeoutMs: RECOVERY_WAIT_MS, signal: connectors.signal },
      );
      expect(failed.error).toMatchObject({ code: 'CONNECTOR_RUN_INTERRUPTED', transient: true });
      expect(failed.error?.adminAction).toContain('again');
      const msgs = (await readAll(env.rawTopic)).filter((m) => m.event.syncrunid === id);
      expect(msgs.some((m) => m.event.type === rawDatasetChunkV1.type)).toBe(true);
      expect(msgs.some((m) => m.event.type === datasetSnapshotCompletedV1.type)).toBe(false);

      const next = await client.triggerSync({}, client.md('kill'));
      expect(next.alreadyActive).toBe(false);
      const ok = await eventually(
        async () => {
          const r = await client.getSyncRun({ syncRunId: next.run!.syncRunId }, client.md('kill'));
          return r.status === 'published' || r.status === 'failed' ? r : undefined;
        },
        'next run',
        { timeoutMs: RUN_WAIT_MS, signal: connectors.signal },
      );
      expect(ok.status).toBe('published');
    },
  );

  it(
    'crash after the last chunk but before the marker: failed, never committed',
    { timeout: RECOVERY_WAIT_MS + 60_000 },
    async ({ connectors }) => {
      const { env } = world;
      const t = 'crash-before-marker';
      const run = await runCrashingAt(connectors, 'chunks-published', t);
      expect((await readRun(env, t, run.syncRunId))?.status).toBe('fetched');
      const recovery = await recoveredBy(connectors, t, run.syncRunId, ['failed'], 'failed');
      await connectors.stop(recovery.app);
      const failed = recovery.run;
      expect(failed.error?.code).toBe('CONNECTOR_RUN_INTERRUPTED');
      const msgs = (await readAll(env.rawTopic)).filter((m) => m.event.syncrunid === run.syncRunId);
      const planned = (failed.datasets as Array<{ chunkCount: number }>).reduce(
        (n, d) => n + d.chunkCount,
        0,
      );
      expect(msgs.filter((m) => m.event.type === rawDatasetChunkV1.type)).toHaveLength(planned);
      expect(msgs.some((m) => m.event.type === datasetSnapshotCompletedV1.type)).toBe(false);
    },
  );

  it(
    'crash while sending the marker: resumed by re-sending the same marker (same event id)',
    { timeout: RECOVERY_WAIT_MS + 60_000 },
    async ({ connectors }) => {
      const { env } = world;
      const t = 'crash-at-marker';
      const run = await runCrashingAt(connectors, 'marker-attempted', t);
      const stuck = await readRun(env, t, run.syncRunId);
      expect(stuck?.status).toBe('fetched');
      expect(stuck?.markerAttemptedAt).toBeInstanceOf(Date);
      const { run: published } = await recoveredBy(connectors, t, run.syncRunId, ['published'], 'resumed');
      expect(published.error).toBeUndefined();
      const markers = (await readAll(env.rawTopic)).filter(
        (m) => m.event.syncrunid === run.syncRunId && m.event.type === datasetSnapshotCompletedV1.type,
      );
      expect(markers.length).toBeGreaterThanOrEqual(1);
      expect(new Set(markers.map((m) => m.event.id)).size).toBe(1);
    },
  );

  it(
    'a requested run whose process died before starting it is run by the next process (queue entry kept or lost)',
    { timeout: 2 * (RECOVERY_WAIT_MS + 30_000) },
    async ({ connectors }) => {
      const { env } = world;
      const tenantId = 'crash-requested';
      for (const entry of ['kept', 'lost'] as const) {
        // It dies before answering the trigger.
        await expect(runCrashingAt(connectors, 'run-requested', tenantId)).rejects.toThrow();
        const requested = await readCollection(env, 'sync_runs', { tenantId, status: 'requested' });
        expect(requested).toHaveLength(1);
        const id = requested[0]!._id;
        expect(await readCollection(env, 'run_queue', { _id: id })).toHaveLength(1);
        // A run requested before the queue existed (or whose entry vanished) is queued again at start-up.
        if (entry === 'lost') await deleteFromCollection(env, 'run_queue', { _id: id });

        const recovery = await recoveredBy(
          connectors,
          tenantId,
          id,
          ['published', 'failed'],
          `run with its queue entry ${entry}`,
        );
        await connectors.stop(recovery.app);
        const done = recovery.run;
        expect(done.status).toBe('published');
        expect(done.error).toBeUndefined();
        expect(await readCollection(env, 'run_queue', { tenantId })).toEqual([]);
        expect(await readCollection(env, 'active_runs', { tenantId })).toEqual([]);
      }
    },
  );
});
