import { describe, expect, it } from 'vitest';
import type { CloudEvent } from '@isams-sync/events';
import type { ConsumerContext } from '@isams-sync/kafka';
import { createLogger } from '@isams-sync/logger';
import { rawDatasetsHandlers } from '../../src/handlers/kafka/raw-datasets.handler';
import { memoryProcessor } from '../support/memory-processor';
import { ids } from '../../src/use-cases/records';
import { StagedChunkSweeper } from '../../src/use-cases/staged-chunk-sweep';
import { newWorld } from '../support/crash-world';
import { MemoryRosterStore } from '../support/memory-roster';
import { miniSchool } from '../support/mini-school';
import { storedRoster } from '../support/stored-roster';
import { snapshotEvents } from '../support/school-feed';
import type { Datasets } from '../support/school-feed';

// A run whose chunks were staged but whose run-complete marker never came (its fetch failed part-way,
// its publish was cut off, a version of a dataset the connector abandoned) never gets a changeset, so
// nothing else ever drops its chunks — children's personal data. The sweep drops them once the run's
// newest chunk is older than INCOMPLETE_RUN_TIMEOUT_MS, and leaves alone every run that may still
// need them.

const T = 'school-1';
const T0 = Date.parse('2026-11-30T09:00:00Z');
const MIN = 60_000;
const DAY = 86_400_000;
const RETENTION = 30 * MIN;
const logger = createLogger({ service: 'roster-abandoned-chunks', level: 'silent' });
const SCHOOL = miniSchool(12);

function roster() {
  const world = newWorld();
  const store = new MemoryRosterStore(world.state);
  let clock = T0;
  const now = () => new Date(clock);
  const background: Promise<void>[] = [];
  const processor = memoryProcessor(world.state, {
    store,
    publisher: world.broker,
    logger,
    incompleteRunTimeoutMs: RETENTION,
    background: (work) => background.push(work),
    now,
  });
  const { handler } = rawDatasetsHandlers({
    store,
    processor,
    now,
    background: (work) => background.push(work),
  });
  const sweeper = new StagedChunkSweeper({ store, processor, logger, retentionMs: RETENTION, graceDays: 14 });
  const drain = async () => {
    while (background.length > 0) await background.shift();
  };
  return {
    world,
    store,
    processor,
    sweeper,
    at: (ms: number) => {
      clock = T0 + ms;
      return now();
    },
    /** Delivers a run's chunks (those `keep` lets through) and/or its marker, then waits for the processing. */
    async deliver(
      runId: string,
      opts: {
        datasets?: Datasets;
        only?: 'chunks' | 'marker';
        dryRun?: boolean;
        keep?: (i: number) => boolean;
      } = {},
    ) {
      const { chunks, marker } = snapshotEvents(T, runId, opts.datasets ?? SCHOOL, {
        chunkSize: 5,
        ...(opts.dryRun ? { dryRun: true } : {}),
      });
      const sent: CloudEvent[] = [
        ...(opts.only === 'marker' ? [] : chunks.filter((_, i) => opts.keep?.(i) ?? true)),
        ...(opts.only === 'chunks' ? [] : [marker]),
      ];
      for (const e of sent) await handler(e, { bytes: 0, logger } as unknown as ConsumerContext);
      await drain();
    },
    /** The staged chunks of a run. */
    chunksOf: (runId: string) =>
      [...world.state.rawChunks.values()].filter((c) => c.tenantId === T && c.syncRunId === runId).length,
    changeset: (runId: string) => store.getChangeset(T, ids.changeset(T, runId)),
  };
}

describe('the sweep of staged chunks whose run never completed', () => {
  it('drops the chunks of a run whose marker never came, once its newest chunk is older than the retention', async () => {
    const r = roster();
    await r.deliver('abandoned', { only: 'chunks' });
    const staged = r.chunksOf('abandoned');
    expect(staged).toBeGreaterThan(3);

    expect(await r.sweeper.dropAbandoned(r.at(RETENTION - MIN))).toEqual([]);
    expect(r.chunksOf('abandoned')).toBe(staged);

    expect(await r.sweeper.dropAbandoned(r.at(RETENTION + MIN))).toEqual([
      { tenantId: T, syncRunId: 'abandoned', reason: 'no_marker' },
    ]);
    expect(r.chunksOf('abandoned')).toBe(0);
    expect(await r.changeset('abandoned')).toBeNull();
  });

  it('counts from the newest chunk: a run still publishing keeps its older chunks', async () => {
    const r = roster();
    const { currentPupils, ...rest } = SCHOOL;
    await r.deliver('slow', { datasets: rest, only: 'chunks' });
    r.at(20 * MIN);
    await r.deliver('slow', { datasets: { ...rest, currentPupils }, only: 'chunks' });
    const staged = r.chunksOf('slow');

    expect(await r.sweeper.dropAbandoned(r.at(RETENTION + MIN))).toEqual([]);
    expect(r.chunksOf('slow')).toBe(staged);
    expect(await r.sweeper.dropAbandoned(r.at(20 * MIN + RETENTION + MIN))).toHaveLength(1);
    expect(r.chunksOf('slow')).toBe(0);
  });

  it('a chunk delivered again renews its run’s time', async () => {
    const r = roster();
    await r.deliver('again', { only: 'chunks' });
    r.at(25 * MIN);
    await r.deliver('again', { only: 'chunks', keep: (i) => i === 0 });
    expect(await r.sweeper.dropAbandoned(r.at(RETENTION + MIN))).toEqual([]);
    expect(r.chunksOf('again')).toBeGreaterThan(0);
  });

  it('leaves a run whose marker is waiting for its missing chunks to the incomplete-run timeout, which drops them as it fails the run', async () => {
    const r = roster();
    await r.deliver('waiting', { keep: (i) => i !== 1 });
    expect((await r.changeset('waiting'))?.state).toBe('waiting');
    const staged = r.chunksOf('waiting');

    expect(await r.sweeper.dropAbandoned(r.at(RETENTION + MIN))).toEqual([]);
    expect(r.chunksOf('waiting')).toBe(staged);

    expect(await r.processor.failIncompleteRuns(r.at(RETENTION + MIN))).toBe(1);
    expect(await r.changeset('waiting')).toMatchObject({
      state: 'done',
      outcome: 'failed',
      error: { code: 'ROSTER_RUN_TIMED_OUT' },
    });
    expect(r.chunksOf('waiting')).toBe(0);
  });

  it('a marker that comes after its run’s chunks were dropped waits, and fails as incomplete without applying anything', async () => {
    const r = roster();
    await r.deliver('late', { only: 'chunks' });
    expect(await r.sweeper.dropAbandoned(r.at(RETENTION + MIN))).toHaveLength(1);

    r.at(40 * MIN);
    await r.deliver('late', { only: 'marker' });
    expect((await r.changeset('late'))?.state).toBe('waiting');
    await r.processor.failIncompleteRuns(r.at(40 * MIN + RETENTION + MIN));
    expect(await r.changeset('late')).toMatchObject({
      outcome: 'failed',
      error: { code: 'ROSTER_RUN_TIMED_OUT' },
    });
    expect(await storedRoster(r.store, T)).toEqual([]);
    expect(r.world.broker.events('changes')).toEqual([]);
  });

  it('drops the chunks a finished run got again after it had dropped its own (a redelivery)', async () => {
    const r = roster();
    await r.deliver('applied');
    expect((await r.changeset('applied'))?.outcome).toBe('applied');
    expect(r.chunksOf('applied')).toBe(0);
    // The consumer restarts from an offset before the run's chunks: they are staged again.
    r.at(MIN);
    await r.deliver('applied', { only: 'chunks' });
    expect(r.chunksOf('applied')).toBeGreaterThan(0);

    expect(await r.sweeper.dropAbandoned(r.at(MIN + RETENTION + MIN))).toEqual([
      { tenantId: T, syncRunId: 'applied', reason: 'run_finished' },
    ]);
    expect(r.chunksOf('applied')).toBe(0);
  });

  it('keeps a finished dry run’s chunks for its preview as long as its changeset, then drops them', async () => {
    const r = roster();
    await r.deliver('dry', { dryRun: true });
    expect(await r.changeset('dry')).toMatchObject({ state: 'done', dryRun: true });
    const staged = r.chunksOf('dry');
    expect(staged).toBeGreaterThan(0);

    expect(await r.sweeper.dropAbandoned(r.at(RETENTION + MIN))).toEqual([]);
    expect(await r.sweeper.dropAbandoned(r.at(13 * DAY))).toEqual([]);
    expect(r.chunksOf('dry')).toBe(staged);
    expect(await r.sweeper.dropAbandoned(r.at(14 * DAY + MIN))).toEqual([
      { tenantId: T, syncRunId: 'dry', reason: 'dry_run_expired' },
    ]);
    expect(r.chunksOf('dry')).toBe(0);
  });

  it('skips a school another replica holds, and drops its run’s chunks at a later sweep', async () => {
    const r = roster();
    await r.deliver('abandoned', { only: 'chunks' });
    r.world.state.leases.set(T, { generation: 7, holder: 'replica-2' });
    expect(await r.sweeper.dropAbandoned(r.at(RETENTION + MIN))).toEqual([]);
    expect(r.chunksOf('abandoned')).toBeGreaterThan(0);

    r.world.state.leases.set(T, { generation: 7, holder: null });
    expect(await r.sweeper.dropAbandoned(r.at(RETENTION + 2 * MIN))).toHaveLength(1);
    expect(r.chunksOf('abandoned')).toBe(0);
  });

  it('reads in bounded batches and still reaches an abandoned run behind runs it keeps', async () => {
    const r = roster();
    for (const run of ['dry-1', 'dry-2', 'dry-3']) await r.deliver(run, { dryRun: true });
    r.at(MIN);
    await r.deliver('abandoned', { only: 'chunks' });
    const sweeper = new StagedChunkSweeper({
      store: r.store,
      processor: r.processor,
      logger,
      retentionMs: RETENTION,
      graceDays: 14,
      batchSize: 2,
    });
    expect(await sweeper.dropAbandoned(r.at(MIN + RETENTION + MIN))).toEqual([
      { tenantId: T, syncRunId: 'abandoned', reason: 'no_marker' },
    ]);
    expect(r.chunksOf('abandoned')).toBe(0);
    for (const run of ['dry-1', 'dry-2', 'dry-3']) expect(r.chunksOf(run)).toBeGreaterThan(0);
  });
});
