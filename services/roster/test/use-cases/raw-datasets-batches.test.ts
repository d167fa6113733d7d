import { describe, expect, it } from 'vitest';
import type { CloudEvent } from '@isams-sync/events';
import type { BatchConsumerContext, ConsumerContext } from '@isams-sync/kafka';
import { createLogger } from '@isams-sync/logger';
import { CHUNKS_STAGED_IN_FLIGHT, rawDatasetsHandlers } from '../../src/handlers/kafka/raw-datasets.handler';
import { memoryProcessor } from '../support/memory-processor';
import type { ChunkStaging } from '../../src/use-cases/ports';
import { StagedChunkMemory } from '../../src/use-cases/process-memory';
import { ids } from '../../src/use-cases/records';
import type { RawChunkDoc } from '../../src/use-cases/records';
import { newWorld } from '../support/crash-world';
import { MemoryRosterStore } from '../support/memory-roster';
import { miniSchool } from '../support/mini-school';
import { storedRoster } from '../support/stored-roster';
import { snapshotEvents } from '../support/school-feed';

// The raw-datasets consumer hands the roster a fetched batch of events at once: the chunks between
// two markers are staged several at a time, a marker only once everything before it is. Delivered in
// batches or one by one, the same runs must end in the same roster.

const T = 'school-1';
const logger = createLogger({ service: 'roster-raw-batches', level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A roster on the in-memory store; `staging` wraps the store's chunk staging when given. */
function roster(staging?: (store: ChunkStaging) => ChunkStaging) {
  const world = newWorld();
  const store = new MemoryRosterStore(world.state);
  const background: Promise<void>[] = [];
  const now = () => new Date('2026-12-05T09:00:00Z');
  const processor = memoryProcessor(world.state, {
    store,
    publisher: world.broker,
    logger,
    background: (work) => background.push(work),
    now,
  });
  const memory = new StagedChunkMemory(64 * 1024 * 1024);
  const stager = staging ? staging(store) : store;
  const track = (work: Promise<void>) => background.push(work);
  const { handler: one, batchHandler: batch } = rawDatasetsHandlers({
    store: stager,
    processor,
    now,
    background: track,
    chunks: memory,
  });
  const drain = async () => {
    while (background.length > 0) await background.shift();
  };
  // The runner's `inEventTrace`, recording whose trace the work it wraps runs in.
  const traced = { current: undefined as string | undefined };
  const inEventTrace: BatchConsumerContext['inEventTrace'] = async (event, fn) => {
    traced.current = event.id;
    try {
      return await fn();
    } finally {
      traced.current = undefined;
    }
  };
  return {
    world,
    store,
    processor,
    memory,
    traced,
    drain,
    async oneByOne(events: CloudEvent[]) {
      for (const e of events) await one(e, { bytes: 100, logger } as unknown as ConsumerContext);
      await drain();
    },
    /** Hands `events` to the batch handler in batches of the given sizes (the rest in the last). */
    async inBatches(events: CloudEvent[], sizes: number[]) {
      let at = 0;
      for (const size of [...sizes, events.length]) {
        const part = events.slice(at, at + size);
        at += part.length;
        if (part.length === 0) continue;
        await batch(part, {
          sizes: part.map(() => 100),
          logger,
          inEventTrace,
        } as unknown as BatchConsumerContext);
      }
      await drain();
    },
  };
}

/** Two runs of one school: a first sync, then one in which three pupils left. */
function twoRuns(): CloudEvent[] {
  const first = snapshotEvents(T, 'r1', miniSchool(40), { chunkSize: 5 });
  const second = snapshotEvents(T, 'r2', miniSchool(40, { without: [3, 7, 11] }), { chunkSize: 5 });
  return [...first.chunks, first.marker, ...second.chunks, second.marker] as CloudEvent[];
}

describe('the raw-datasets batch handler', () => {
  it('ends every run as one event at a time does, however the events are batched', async () => {
    const events = twoRuns();
    const reference = roster();
    await reference.oneByOne(events);
    const expected = await storedRoster(reference.store, T);
    expect(expected.filter((e) => e.t === 'pupil' && e.status === 'removed')).toHaveLength(3);

    const markerAt = events.findIndex((e) => e.type.includes('completed'));
    for (const sizes of [[events.length], [markerAt], [markerAt + 1], [3, 4, 5], [markerAt + 2, 1]]) {
      const r = roster();
      await r.inBatches(events, sizes);
      expect(await storedRoster(r.store, T), `batches of ${sizes.join(', ')}`).toEqual(expected);
      // The chunks it stored are kept for their runs' plans, counted at their message sizes.
      expect(r.memory.bytes).toBeGreaterThan(0);
    }
  });

  it('stages a batch’s chunks several at once (at most CHUNKS_STAGED_IN_FLIGHT) and handles the marker after all of them', async () => {
    const log: string[] = [];
    let staging = 0;
    let most = 0;
    const r = roster((store) => ({
      async stageChunk(chunk: RawChunkDoc) {
        staging += 1;
        most = Math.max(most, staging);
        // Later chunks finish first: only waiting for every one keeps the marker behind them.
        await sleep(2 + (20 - chunk.chunkIndex));
        const stored = await store.stageChunk(chunk);
        staging -= 1;
        log.push(`staged ${chunk.datasetId}/${chunk.chunkIndex}`);
        return stored;
      },
    }));
    const { chunks, marker } = snapshotEvents(T, 'r1', miniSchool(40), { chunkSize: 5 });
    expect(chunks.length).toBeGreaterThan(CHUNKS_STAGED_IN_FLIGHT);
    const markerHandled = new Promise<void>((resolve) => {
      const original = r.store.createChangeset.bind(r.store);
      r.store.createChangeset = async (...args) => {
        log.push('marker');
        resolve();
        return original(...args);
      };
    });
    await r.inBatches([...chunks, marker] as CloudEvent[], []);
    await markerHandled;
    expect(most).toBe(CHUNKS_STAGED_IN_FLIGHT);
    expect(log.indexOf('marker')).toBe(chunks.length);
    expect(log.filter((l) => l.startsWith('staged'))).toHaveLength(chunks.length);
  });

  it('the marker is handled, and each run told of its staged chunks, in that event’s own trace — the runs before the marker', async () => {
    const r = roster();
    const seen: string[] = [];
    const onChunkStaged = r.processor.onChunkStaged.bind(r.processor);
    r.processor.onChunkStaged = (tenantId, syncRunId) => {
      seen.push(`told ${syncRunId} in ${r.traced.current}`);
      return onChunkStaged(tenantId, syncRunId);
    };
    const createChangeset = r.store.createChangeset.bind(r.store);
    r.store.createChangeset = async (...args) => {
      seen.push(`marker of ${args[0].syncRunId} in ${r.traced.current}`);
      return createChangeset(...args);
    };
    const first = snapshotEvents(T, 'r1', miniSchool(40), { chunkSize: 5 });
    const second = snapshotEvents(T, 'r2', miniSchool(40), { chunkSize: 5 });
    // One batch: r1's chunks and marker, then r2's chunks (its marker in a later fetch).
    await r.inBatches([...first.chunks, first.marker, ...second.chunks] as CloudEvent[], []);
    expect(seen).toEqual([
      `told r1 in ${first.chunks.at(-1)!.id}`,
      `marker of r1 in ${first.marker.id}`,
      `told r2 in ${second.chunks.at(-1)!.id}`,
    ]);
  });

  it('a chunk that cannot be staged fails the batch once the chunks under way have settled, starts no other, and leaves the marker unhandled', async () => {
    let started = 0;
    let underWay = 0;
    const r = roster((store) => ({
      async stageChunk(chunk: RawChunkDoc) {
        started += 1;
        underWay += 1;
        try {
          if (chunk.chunkIndex === 1) throw new Error('database away');
          await sleep(10);
          return await store.stageChunk(chunk);
        } finally {
          underWay -= 1;
        }
      },
    }));
    const { chunks, marker } = snapshotEvents(T, 'r1', miniSchool(40), { chunkSize: 5 });
    const events = [...chunks, marker] as CloudEvent[];
    const failing = events.findIndex((e) => (e.data as { chunkIndex: number }).chunkIndex === 1);
    expect(failing).toBeLessThan(CHUNKS_STAGED_IN_FLIGHT);
    await expect(r.inBatches(events, [])).rejects.toThrow('database away');
    expect(underWay).toBe(0);
    expect(started).toBe(CHUNKS_STAGED_IN_FLIGHT);
    expect(await r.store.getChangeset(T, ids.changeset(T, 'r1'))).toBeNull();
  });
});
