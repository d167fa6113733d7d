import { createLogger } from '@isams-sync/logger';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/domain/run-record';
import type { RunStatus } from '../../src/domain/sync-run';
import { SyncEngine } from '../../src/use-cases/sync-engine';
import type { RunPublisher, RunStore } from '../../src/use-cases/ports';
import {
  ConnectorWorld,
  enrolSchool,
  inMemoryPorts,
  testEngineOptions,
} from '../support/in-memory/in-memory-ports';
import { ProcessLife } from '../support/in-memory/process-life';

// A run's progress is written beside its work (run-execution `writeProgress`), and its steps
// (`fetching → fetched`, the marker attempt, `→ published`) are written in line. On FerretDB a
// findAndModify reads the document and then writes it back, not atomically: a progress write in
// flight while a step is applied can write the run's old status back over the step's (seen in CI as
// a run read back `fetching` after its `fetched` step was awaited). So no progress write may be in
// flight while a step is being written.

const TENANT = 'school-p';
const OPTIONS = testEngineOptions(30_000);
const logger = createLogger({ service: 'run-progress', level: 'silent' });
const engines: SyncEngine[] = [];
afterEach(async () => {
  while (engines.length > 0) await engines.pop()!.stop(1_000);
});

/** One manual run of the school on an engine with these ports, to its end; resolves to its record. */
async function runOnce(world: ConnectorWorld, ports: ReturnType<typeof inMemoryPorts>): Promise<RunRecord> {
  const engine = new SyncEngine({ ...ports, logger }, OPTIONS);
  engines.push(engine);
  await engine.start();
  await engine.trigger(TENANT, { kind: 'manual', actor: 'admin@school-p' }, false);
  await engine.drain();
  return [...world.runs.values()].find((r) => r.tenantId === TENANT)!;
}

describe('progress writes beside a run’s steps', () => {
  it('no progress write starts, or is in flight, while a step is written — even with chunks still being published', async () => {
    // Many one-record chunks: a first sync publishes them while the document is read, and on past
    // the fetch's end, into the `fetched` step.
    const records = Array.from({ length: 40 }, (_, i) => ({ Id: `r${i}` }));
    const world = new ConnectorWorld(
      { chunkSize: 1, records: { currentStaff: records, currentPupils: records, yearGroups: records } },
      30_000,
    );
    enrolSchool(world, TENANT, null);
    const ports = inMemoryPorts(world, new ProcessLife());

    let stepsWriting = 0;
    let progressWriting = 0;
    const overlaps: string[] = [];
    const stepsWritten: RunStatus[] = [];
    const runs: RunStore = Object.create(ports.runs) as RunStore;
    runs.recordStep = async (run, set, inc, fence) => {
      stepsWriting += 1;
      if (progressWriting > 0) overlaps.push(`step ${set.status ?? 'marker'} began during a progress write`);
      try {
        await sleep(5); // the window a database's round trips open
        const decision = await ports.runs.recordStep(run, set, inc, fence);
        if (set.status) stepsWritten.push(set.status);
        return decision;
      } finally {
        stepsWriting -= 1;
      }
    };
    runs.recordProgress = async (run, progress) => {
      if (stepsWriting > 0) overlaps.push(`progress write began during a step (run ${run.status})`);
      progressWriting += 1;
      try {
        await sleep(3);
        return await ports.runs.recordProgress(run, progress);
      } finally {
        progressWriting -= 1;
      }
    };
    const publisher: RunPublisher = Object.create(ports.publisher) as RunPublisher;
    publisher.publishChunks = (run, datasets, spool, onPublished, opts) =>
      ports.publisher.publishChunks(
        run,
        datasets,
        spool,
        async (chunks) => {
          await sleep(1); // a broker's round trip per chunk: publishing outlasts the in-memory fetch
          await onPublished(chunks);
        },
        opts,
      );

    const run = await runOnce(world, { ...ports, runs, publisher });
    expect(run.status).toBe('published');
    expect(stepsWritten).toEqual(expect.arrayContaining(['fetching', 'fetched', 'published']));
    // Chunks were published while the document was read, so progress was written beside the work.
    expect(world.events.filter((e) => e.kind === 'run-update').length).toBeGreaterThan(4);
    expect(overlaps).toEqual([]);
  });
});

// A dataset whose container comes twice (ISAMS_DUPLICATE_CONTAINER) is read twice: the version read
// at the end of its first container may be published while the document is read, and is then
// abandoned for the whole one (other chunk ids, not in the marker). The run's progress counts the
// chunks of the run — those of the versions the marker names — so an admin never sees more chunks
// published than the run has.
describe('a run’s published chunks', () => {
  it('count only the versions the run ended with: a repeated container’s first version does not make published pass the total', async () => {
    const staff = Array.from({ length: 6 }, (_, i) => ({ Id: `s${i}` }));
    const world = new ConnectorWorld(
      {
        chunkSize: 2,
        records: { currentStaff: staff, yearGroups: [{ Id: 'y7' }, { Id: 'y8' }] },
        repeatedContainer: 'currentStaff',
      },
      30_000,
    );
    enrolSchool(world, TENANT, null);
    const ports = inMemoryPorts(world, new ProcessLife());
    const progress: Array<{ published: number; total: number }> = [];
    const runs: RunStore = Object.create(ports.runs) as RunStore;
    runs.recordProgress = (run, p) => {
      progress.push({ published: p.chunksPublished, total: p.chunksTotal });
      return ports.runs.recordProgress(run, p);
    };
    const run = await runOnce(world, { ...ports, runs });
    expect(run.status).toBe('published');
    // The first container's version (one record, one chunk) went out while the document was read.
    const abandoned = world.events.filter(
      (e) => e.kind === 'chunk' && e.datasetId === 'currentStaff' && e.records.length === 1,
    );
    expect(abandoned).toHaveLength(1);
    expect(run.progress.chunksTotal).toBe(3 + 1);
    expect(run.progress.chunksPublished).toBe(run.progress.chunksTotal);
    // Never more than the total once the total is known, in any progress written or announced.
    for (const p of progress) if (p.total > 0) expect(p.published).toBeLessThanOrEqual(p.total);
    const updates = world.events.filter((e) => e.kind === 'run-update' && e.syncRunId === run._id);
    expect(updates.length).toBeGreaterThan(0);
  });
});
