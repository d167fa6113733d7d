import { eventually, getTestInfra } from '@isams-sync/testing';
import { datasetSnapshotCompletedV1, rawDatasetChunkV1 } from '@isams-sync/events';
import { beforeAll, describe, expect, onTestFinished } from 'vitest';
import {
  connectorTest as it,
  readAll,
  readRun,
  runReaching,
  useSimulatorAndEnv,
} from '../support/connector-harness';
import { startPausableProxy } from '../support/pausable-proxy';

const KEY = '{EEEEEEEE-0000-0000-0000-000000000001}';

// A progress write is a fenced write (the run lease read before and after it): several round trips.
// It must not stand in the way of the run: awaited before each next chunk, a slow database held the
// publishing up by its latency times the number of writes.
describe('connector: progress writes beside the run', () => {
  const world = useSimulatorAndEnv();

  beforeAll(async () => {
    await world.sim.createSchool('slow-db', { seed: 90, size: 'large', apiKey: KEY });
  });

  it(
    'a database that stops answering while a run publishes holds up its progress, not its chunks; the run ends once it answers',
    { timeout: 180_000 },
    async ({ connectors }) => {
      const port = Number(/:(\d+)\//.exec(getTestInfra().mongoUrl)?.[1]);
      const proxy = await startPausableProxy(port);
      onTestFinished(() => proxy.close());
      let held = false;
      const app = await connectors.start(
        world.env.env({
          SCHEDULER_ENABLED: 'false',
          MONGO_URL: `mongodb://127.0.0.1:${proxy.port}/?directConnection=true&retryWrites=false`,
          MAX_CHUNK_BYTES: String(64 * 1024),
          PROGRESS_INTERVAL_MS: '10ms',
          // Long enough that the held database does not cost the run its lease.
          RUN_LEASE_TTL_MS: '120s',
        }),
        {
          onStep: (step, run) => {
            if (step !== 'publishing' || run.tenantId !== 'slow-db') return;
            // The first chunk of a first sync goes out while the document is still read. From here
            // on the database answers nothing until resumed.
            held = true;
            proxy.pause();
          },
        },
      );
      const c = connectors.client(app.grpcPort);
      await c.putSettings({ isamsUrl: world.sim.url, apiKey: KEY, enabled: true }, c.md('slow-db'));
      const { run } = await c.triggerSync({}, c.md('slow-db'));
      const id = run!.syncRunId;
      const ofRun = async () => (await readAll(world.env.rawTopic)).filter((m) => m.event.syncrunid === id);

      // Every dataset is published as it is read, the database held all the while. Hang guard: on
      // the code before progress writes went beside the run, the publishing stopped at its first
      // progress write, for good.
      const chunks = await eventually(
        async () => {
          const msgs = (await ofRun()).filter((m) => m.event.type === rawDatasetChunkV1.type);
          const byDataset = new Map<string, { count: number; seen: Set<number> }>();
          for (const m of msgs) {
            const { datasetId, chunkCount, chunkIndex } = rawDatasetChunkV1.parse(m.event).data;
            const d = byDataset.get(datasetId) ?? { count: chunkCount, seen: new Set<number>() };
            byDataset.set(datasetId, d);
            d.seen.add(chunkIndex);
          }
          const whole = [...byDataset.values()].every((d) => d.seen.size === d.count);
          return held && byDataset.size === 14 && whole ? msgs : undefined;
        },
        'every dataset published while the database is held',
        { timeoutMs: 90_000, signal: connectors.signal },
      );
      // The commit point needs the database: no marker yet, and the run (read directly) is not done.
      expect((await ofRun()).some((m) => m.event.type === datasetSnapshotCompletedV1.type)).toBe(false);
      expect((await readRun(world.env, 'slow-db', id))?.status).toBe('fetching');

      proxy.resume();
      const done = await runReaching(
        world.env,
        'slow-db',
        id,
        ['published', 'failed'],
        'the run once the database answers',
        { timeoutMs: 60_000, signal: connectors.signal },
      );
      expect(done.status).toBe('published');
      const markers = (await ofRun()).filter((m) => m.event.type === datasetSnapshotCompletedV1.type);
      expect(markers).toHaveLength(1);
      // Nothing was left to publish once the database answered: the chunks published while it was
      // held are the run's, each once.
      const planned = datasetSnapshotCompletedV1
        .parse(markers[0]!.event)
        .data.datasets.reduce((n, d) => n + d.chunkCount, 0);
      expect(new Set(chunks.map((m) => m.event.id)).size).toBe(planned);
      expect((await ofRun()).filter((m) => m.event.type === rawDatasetChunkV1.type)).toHaveLength(planned);
      expect(done.progress?.chunksPublished).toBe(planned);
    },
  );
});
