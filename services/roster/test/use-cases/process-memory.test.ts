import { afterEach, describe, expect, it, vi } from 'vitest';
import { rawDatasetChunkV1 } from '@isams-sync/events';
import type { CloudEvent } from '@isams-sync/events';
import type { RosterEntity } from '../../src/domain/roster-model';
import { ImageMemory, StagedChunkMemory } from '../../src/use-cases/process-memory';
import { ids, imageHash } from '../../src/use-cases/records';
import type { RawChunkDoc } from '../../src/use-cases/records';
import { newWorld, play, processMemory } from '../support/crash-world';
import type { World, WorldStep } from '../support/crash-world';
import { MemoryRosterStore } from '../support/memory-roster';
import { miniSchool } from '../support/mini-school';
import { storedRoster } from '../support/stored-roster';
import { pupil } from '../support/raw';
import { snapshotEvents } from '../support/school-feed';
import type { Datasets } from '../support/school-feed';

// What a roster process keeps in hand between a run's steps (process-memory.ts): the chunks it staged
// and the images its last plans had. What must hold: a run planned from memory ends exactly as one
// planned from the store, whatever another process did meanwhile; and the memory stays bounded.

const T = 'school-1';
const feed = (syncRunId: string, datasets: Datasets, dryRun = false): WorldStep => ({
  kind: 'feed',
  tenantId: T,
  syncRunId,
  datasets,
  ...(dryRun ? { dryRun } : {}),
});
const FIRST = feed('run-a', miniSchool(40));

/** The stored roster, the manifest and every event published (content, ids included), to compare worlds. */
async function outcome(world: World) {
  const store = new MemoryRosterStore(world.state);
  const content = (e: CloudEvent) => {
    const { revision, ...data } = e.data as { revision?: unknown };
    void revision;
    return JSON.stringify({ id: e.id, type: e.type, subject: e.subject, data });
  };
  return {
    roster: await storedRoster(store, T),
    manifest: Object.fromEntries(
      Object.entries(await store.loadManifest(T)).map(([t, m]) => [t, [...m.entries()].sort()]),
    ),
    changes: world.broker.events('changes').map(content),
    state: world.broker.events('state').map(content),
  };
}

/** What the store was asked for: staged chunks read back, entity images read by id. */
function storeReads() {
  const loadChunk = vi.spyOn(MemoryRosterStore.prototype, 'loadChunk');
  const entityDocs = vi.spyOn(MemoryRosterStore.prototype, 'entityDocs');
  return {
    chunks: () => loadChunk.mock.calls.length,
    images: () => entityDocs.mock.calls.flatMap((c) => [...c[2]]),
    reset: () => {
      loadChunk.mockClear();
      entityDocs.mockClear();
    },
  };
}

afterEach(() => vi.restoreAllMocks());

describe('a run planned from what the process remembers', () => {
  it('reads no staged chunk and no image back, and ends exactly as a run planned from the store', async () => {
    const resync = feed(
      'run-b',
      miniSchool(40, { without: [1, 2, 3], extra: [pupil('900')], renamed: { 10: 'R10', 11: 'R11' } }),
    );
    const reads = storeReads();
    const remembering = newWorld();
    await play(remembering, [FIRST, resync]);
    expect(reads.chunks()).toBe(0);
    // The first sync has nothing stored to read; the resync's changed and leaving entities are in hand.
    expect(reads.images()).toEqual([]);

    reads.reset();
    const reading = newWorld();
    await play(reading, [FIRST], undefined, { memory: false });
    await play(reading, [resync], undefined, { memory: false });
    expect(reads.chunks()).toBeGreaterThan(0);
    expect(reads.images()).toEqual(expect.arrayContaining(['1', '2', '3', '10', '11']));

    expect(await outcome(remembering)).toEqual(await outcome(reading));
  });

  it('a run with nothing to change reads the manifest once, for its plan, and not again to apply', async () => {
    const world = newWorld();
    await play(world, [FIRST]);
    const loadManifest = vi.spyOn(MemoryRosterStore.prototype, 'loadManifest');
    await play(world, [feed('run-same', miniSchool(40))]);
    expect(loadManifest).toHaveBeenCalledTimes(1);
  });

  it('takes from the store what another process changed meanwhile (its images are not the stored ones)', async () => {
    // Process A syncs the school; process B then applies a run that renames pupils 10 and 20; A plans
    // the next run (10 renamed again, 20 leaves) with its memory of the first run's images.
    const byB = feed('run-b', miniSchool(40, { renamed: { 10: 'R10', 20: 'R20' } }));
    const byA = feed('run-c', miniSchool(40, { without: [20], renamed: { 10: 'S10' } }));
    const reads = storeReads();
    const a = processMemory();
    const world = newWorld();
    await play(world, [FIRST], undefined, { memory: a });
    await play(world, [byB], undefined, { memory: false });
    reads.reset();
    await play(world, [byA], undefined, { memory: a });
    // A's images of 10 and 20 are the first run's: their hashes are not the manifest's, so both are read.
    expect(reads.images()).toEqual(expect.arrayContaining(['10', '20']));

    const reference = newWorld();
    for (const step of [FIRST, byB, byA]) await play(reference, [step], undefined, { memory: false });
    const got = await outcome(world);
    expect(got).toEqual(await outcome(reference));
    // The events of run-c start from run-b's names, not the first run's.
    const c = got.changes.filter((e) => e.includes('run-c'));
    expect(c.some((e) => e.includes('R20'))).toBe(true);
    expect(c.some((e) => e.includes('R10'))).toBe(true);
  });

  it('a dry run leaves the memory as it was (its images are not stored)', async () => {
    const reads = storeReads();
    const memory = processMemory();
    const world = newWorld();
    await play(world, [FIRST], undefined, { memory });
    await play(world, [feed('run-dry', miniSchool(40, { renamed: { 10: 'D10' } }), true)], undefined, {
      memory,
    });
    reads.reset();
    await play(world, [feed('run-b', miniSchool(40, { renamed: { 10: 'R10' } }))], undefined, { memory });
    // Pupil 10's stored image (the first run's) is still in hand: nothing is read.
    expect(reads.images()).toEqual([]);
  });

  it('uses the store’s copy of a chunk it found already staged, not the copy it received', async () => {
    // The run's first pupils chunk was staged before, with other records (by another process, say):
    // the first copy is the staged one, so the plan must read that, not the one this process received.
    const run = feed('run-a', miniSchool(3));
    const received = snapshotEvents(T, 'run-a', miniSchool(3)).chunks.map(
      (e) => rawDatasetChunkV1.parse(e).data,
    );
    const first = received.find((d) => d.datasetId === 'currentPupils' && d.chunkIndex === 0)!;
    const id = ids.chunk(T, 'run-a', 'currentPupils', first.datasetFingerprint, 0);
    const world = newWorld();
    const store = new MemoryRosterStore(world.state);
    const earlier: RawChunkDoc = {
      _id: id,
      tenantId: T,
      syncRunId: 'run-a',
      datasetId: 'currentPupils',
      chunkIndex: 0,
      chunkCount: first.chunkCount,
      fingerprint: first.datasetFingerprint,
      records: miniSchool(3, { renamed: { 1: 'Earlier' } }).currentPupils!,
      receivedAt: new Date(0),
    };
    expect(await store.stageChunk(earlier)).toBe(true);
    expect(await store.stageChunk(earlier)).toBe(false);
    const memory = processMemory();
    await play(world, [run], undefined, { memory });
    const pupil1 = (await storedRoster(store, T)).find((e) => e.t === 'pupil' && e.id === '1');
    expect(JSON.stringify(pupil1?.data)).toContain('Earlier');
  });
});

describe('the memory stays bounded', () => {
  const chunk = (run: string, i: number): RawChunkDoc => ({
    _id: ids.chunk(T, run, 'currentPupils', 'f', i),
    tenantId: T,
    syncRunId: run,
    datasetId: 'currentPupils',
    chunkIndex: i,
    chunkCount: 3,
    fingerprint: 'f',
    records: [],
    receivedAt: new Date(0),
  });

  it('evicts whole runs, least recently used first, and keeps no chunk bigger than the cap', () => {
    const m = new StagedChunkMemory(100);
    m.remember(chunk('r1', 0), 40);
    m.remember(chunk('r2', 0), 40);
    m.chunk(T, 'r1', chunk('r1', 0)._id); // r1 used: r2 is now the least recently used
    m.remember(chunk('r1', 1), 40);
    expect(m.chunk(T, 'r2', chunk('r2', 0)._id)).toBeUndefined();
    expect(m.chunk(T, 'r1', chunk('r1', 1)._id)).toBeDefined();
    expect(m.bytes).toBe(80);
    m.remember(chunk('r3', 0), 101);
    expect(m.chunk(T, 'r3', chunk('r3', 0)._id)).toBeUndefined();
    expect(m.bytes).toBe(80);
    // The same chunk again counts once.
    m.remember(chunk('r1', 1), 40);
    expect(m.bytes).toBe(80);
    m.forgetRun(T, 'r1');
    expect(m.bytes).toBe(0);
  });

  it('keeps each school’s last images up to the cap, and gives one only for its own hash', () => {
    const image = (id: string, surname: string) => ({ id, surname }) as unknown as RosterEntity;
    const pupils = (...list: RosterEntity[]) => list.map((e) => ['pupil', e] as const);
    const m = new ImageMemory(3);
    m.remember('s1', pupils(image('1', 'A'), image('2', 'B')));
    expect(m.image('s1', 'pupil', '1', imageHash(image('1', 'A')))).toEqual(image('1', 'A'));
    expect(m.image('s1', 'pupil', '1', imageHash(image('1', 'Z')))).toBeUndefined();
    expect(m.image('s1', 'staff', '1', imageHash(image('1', 'A')))).toBeUndefined();
    expect(m.image('s2', 'pupil', '1', imageHash(image('1', 'A')))).toBeUndefined();
    m.remember('s2', pupils(image('1', 'C'), image('2', 'D')));
    // Over the cap: school s1 (least recently used) goes whole.
    expect(m.size).toBe(2);
    expect(m.image('s1', 'pupil', '2', imageHash(image('2', 'B')))).toBeUndefined();
    // A school's next plan replaces its images: pupil 2 (who left) is no longer in hand.
    m.remember('s2', pupils(image('1', 'E')));
    expect(m.size).toBe(1);
    expect(m.image('s2', 'pupil', '1', imageHash(image('1', 'E')))).toEqual(image('1', 'E'));
    expect(m.image('s2', 'pupil', '2', imageHash(image('2', 'D')))).toBeUndefined();
  });

  it('drops what was not used for a while (personal data is not kept in memory indefinitely)', () => {
    let now = 0;
    const images = new ImageMemory(100, () => now);
    const chunks = new StagedChunkMemory(100, () => now);
    const a = { id: 'a' } as unknown as RosterEntity;
    images.remember('s1', [['pupil', a]]);
    images.remember('s2', [['pupil', a]]);
    chunks.remember(chunk('r1', 0), 10);
    now = 50;
    expect(images.image('s2', 'pupil', 'a', imageHash(a))).toBe(a);
    now = 100;
    images.expire(60);
    chunks.expire(60);
    expect(images.image('s1', 'pupil', 'a', imageHash(a))).toBeUndefined();
    expect(images.image('s2', 'pupil', 'a', imageHash(a))).toBe(a);
    expect(images.size).toBe(1);
    expect(chunks.bytes).toBe(0);
  });
});
