import { createLogger } from '@isams-sync/logger';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
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
const logger = createLogger({ service: 'progress-beside-steps', level: 'silent' });
const engines: SyncEngine[] = [];
afterEach(async () => {
  while (engines.length > 0) await engines.pop()!.stop(1_000);
});

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
        async (n) => {
          await sleep(1); // a broker's round trip per chunk: publishing outlasts the in-memory fetch
          await onPublished(n);
        },
        opts,
      );

    const engine = new SyncEngine({ ...ports, runs, publisher, logger }, testEngineOptions(30_000));
    engines.push(engine);
    await engine.start();
    await engine.trigger(TENANT, { kind: 'manual', actor: 'admin@school-p' }, false);
    await engine.drain();

    const run = [...world.runs.values()].find((r) => r.tenantId === TENANT)!;
    expect(run.status).toBe('published');
    expect(stepsWritten).toEqual(expect.arrayContaining(['fetching', 'fetched', 'published']));
    // Chunks were published while the document was read, so progress was written beside the work.
    expect(world.events.filter((e) => e.kind === 'run-update').length).toBeGreaterThan(4);
    expect(overlaps).toEqual([]);
  });
});
