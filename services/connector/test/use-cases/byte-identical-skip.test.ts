import { createLogger } from '@isams-sync/logger';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/domain/run-record';
import type { AppliedSnapshot } from '../../src/domain/sync-run';
import { SyncEngine } from '../../src/use-cases/sync-engine';
import type { SyncEngineDeps, SyncEngineOptions } from '../../src/use-cases/sync-engine';
import {
  ConnectorWorld,
  enrolSchool,
  inMemoryPorts,
  testEngineOptions,
} from '../support/in-memory/in-memory-ports';
import type { ScriptedSchool } from '../support/in-memory/in-memory-ports';
import { ProcessLife } from '../support/in-memory/process-life';

// The byte-identical skip (run-execution): a whole-key document whose bytes hash to the applied
// snapshot's document, under the same reading, is downloaded but not parsed; the run takes that
// document's summary and ends `unchanged`. Everything else is read in full.

const TENANT = 'school-b';
const SHA = 'sha256-of-the-document';
const SCHOOL: ScriptedSchool = {
  chunkSize: 2,
  documentSha256: SHA,
  records: { currentStaff: [{ Id: 's1' }, { Id: 's2' }, { Id: 's3' }], yearGroups: [{ Id: 'y7' }] },
};
const OPTIONS = testEngineOptions(30_000);
const logger = createLogger({ service: 'byte-identical-skip', level: 'silent' });

const engines: SyncEngine[] = [];
afterEach(async () => {
  while (engines.length > 0) await engines.pop()!.stop(1_000);
});

function worldOf(school: ScriptedSchool = SCHOOL): ConnectorWorld {
  const world = new ConnectorWorld(school, 30_000);
  enrolSchool(world, TENANT, null);

  return world;
}

async function engineOf(
  world: ConnectorWorld,
  options: Partial<SyncEngineOptions> = {},
  adapt: (deps: SyncEngineDeps) => SyncEngineDeps = (d) => d,
): Promise<SyncEngine> {
  const engine = new SyncEngine(adapt({ ...inMemoryPorts(world, new ProcessLife()), logger }), {
    ...OPTIONS,
    ...options,
  });
  engines.push(engine);
  await engine.start();
  return engine;
}

/** One manual run of the school to its end; resolves to its record. */
async function runOnce(world: ConnectorWorld, engine: SyncEngine, dryRun = false): Promise<RunRecord> {
  const before = new Set(world.runs.keys());
  await engine.trigger(TENANT, { kind: 'manual', actor: 'admin@school-b' }, dryRun);
  await engine.drain();
  const id = [...world.runs.keys()].find((k) => !before.has(k))!;
  return world.runs.get(id)!;
}

/** The roster's report that it applied the run. */
const applied = (engine: SyncEngine, run: RunRecord) =>
  engine.applyRosterReport({ tenantId: TENANT, syncRunId: run._id, status: 'applied', sequence: 1 });

/** The statuses the run's lifecycle events announced, in order. */
const statusesOf = (world: ConnectorWorld, run: RunRecord) =>
  world.events.flatMap((e) => (e.syncRunId === run._id && e.kind === 'run-update' ? [e.status] : []));

const chunksOf = (world: ConnectorWorld, run: RunRecord) =>
  world.events.filter((e) => e.syncRunId === run._id && e.kind === 'chunk');

describe('the byte-identical skip', () => {
  it('an applied run leaves its document’s sha256, reading and summary in the snapshot; the next identical document ends `unchanged` from it, unread', async () => {
    const world = worldOf();
    const engine = await engineOf(world);
    const first = await runOnce(world, engine);
    expect(first.status).toBe('published');
    expect(first.document).toEqual({ sha256: SHA, reading: 'reading 1' });
    await applied(engine, first);
    expect(world.snapshots.get(TENANT)?.document).toEqual({
      sha256: SHA,
      reading: 'reading 1',
      summary: {
        datasets: first.datasets,
        absent: first.absent,
        unknownContainers: [],
        findings: [],
        bytes: first.progress.bytesFetched,
      },
    });

    const second = await runOnce(world, engine);
    expect(world.fetches).toEqual([null, SHA]);
    expect(second.status).toBe('unchanged');
    expect(second.datasets).toEqual(first.datasets);
    expect(second.absent).toEqual(first.absent);
    expect(second.document).toEqual(first.document);
    expect(chunksOf(world, second)).toEqual([]);
    expect(world.freshness.get(TENANT)?.syncRunId).toBe(second._id);
    // Straight from `fetching` to `unchanged`, the fetch's summary recorded with it.
    expect(statusesOf(world, second)).toEqual(['requested', 'fetching', 'unchanged']);
    expect(second.fetchedAt).toEqual(second.finishedAt);
    expect(second.progress.bytesFetched).toBe(first.progress.bytesFetched);
  });

  it('a dry run, and a connector that reads documents another way, read the document in full', async () => {
    const world = worldOf();
    const engine = await engineOf(world);
    await applied(engine, await runOnce(world, engine));
    const dry = await runOnce(world, engine, true);
    expect(dry.status).toBe('published');
    expect(chunksOf(world, dry).length).toBeGreaterThan(0);
    await engine.stop(1_000);

    const otherReading = await engineOf(world, { documentReading: 'reading 2' });
    const run = await runOnce(world, otherReading);
    expect(world.fetches).toEqual([null, null, null]);
    // Read in full, it is still unchanged by its fingerprints.
    expect(run.status).toBe('unchanged');
  });

  it('a run without a document in the snapshot (fetched in method groups) reads in full', async () => {
    const world = worldOf({ ...SCHOOL, documentSha256: undefined });
    const engine = await engineOf(world);
    const first = await runOnce(world, engine);
    expect(first.document).toBeUndefined();
    await applied(engine, first);
    expect(world.snapshots.get(TENANT)?.document).toBeUndefined();
    expect((await runOnce(world, engine)).status).toBe('unchanged');
    expect(world.fetches).toEqual([null, null]);
  });

  it('when the roster applies another run while the document downloads, the known document is read again in full and published', async () => {
    const world = worldOf();
    const engine = await engineOf(world);
    await applied(engine, await runOnce(world, engine));
    const other: AppliedSnapshot = {
      syncRunId: 'another-run',
      fingerprints: { currentStaff: 'other' },
      absent: [],
    };
    const seeingAnotherApply = await engineOf(world, {}, (deps) => ({
      ...deps,
      source: {
        fetchToSpool: async (request) => {
          const result = await deps.source.fetchToSpool(request);
          world.snapshots.set(TENANT, other); // the roster's report of another run lands now
          return result;
        },
      },
    }));
    await engine.stop(1_000);
    const run = await runOnce(world, seeingAnotherApply);
    expect(world.fetches).toEqual([null, SHA, null]);
    expect(run.status).toBe('published');
    expect(chunksOf(world, run).length).toBeGreaterThan(0);
    expect(run.document).toEqual({ sha256: SHA, reading: 'reading 1' });
  });

  it('a snapshot whose document summary disagrees with its fingerprints fails the run instead of publishing what it spooled in part', async () => {
    const world = worldOf();
    const engine = await engineOf(world);
    await applied(engine, await runOnce(world, engine));
    const snapshot = world.snapshots.get(TENANT)!;
    world.snapshots.set(TENANT, {
      ...snapshot,
      fingerprints: { ...snapshot.fingerprints, yearGroups: 'other' },
    });
    const run = await runOnce(world, engine);
    expect(world.fetches).toEqual([null, SHA]);
    expect(run.status).toBe('failed');
    expect(run.error?.code).toBe('CONNECTOR_RUN_FAILED');
    expect(world.events.filter((e) => e.syncRunId === run._id && e.kind !== 'run-update')).toEqual([]);
  });

  it('a school whose document repeats a container (its first version told before the whole): the unchanged resyncs, byte-identical or read in full, end `unchanged` and publish nothing', async () => {
    const world = worldOf({ ...SCHOOL, repeatedContainer: 'currentStaff' });
    const engine = await engineOf(world);
    const first = await runOnce(world, engine);
    expect(first.status).toBe('published');
    await applied(engine, first);
    expect(world.snapshots.get(TENANT)?.repeatedContainers).toEqual(['currentStaff']);
    // The document's bytes are the applied one's: its first container was read before they ended.
    const known = await runOnce(world, engine);
    expect(known.status, JSON.stringify(known.error)).toBe('unchanged');
    expect(chunksOf(world, known)).toEqual([]);
    await engine.stop(1_000);
    // Read in full: the first container's version differs from the dataset's, which does not.
    const inFull = await engineOf(world, { documentReading: 'reading 2' });
    const read = await runOnce(world, inFull);
    expect(world.fetches).toEqual([null, SHA, null]);
    expect(read.status).toBe('unchanged');
    expect(chunksOf(world, read)).toEqual([]);
  });
});
