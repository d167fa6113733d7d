import { describe, expect, it } from 'vitest';
import { createLogger } from '@isams-sync/logger';
import { rawDatasetsHandlers } from '../../src/handlers/kafka/raw-datasets.handler';
import { ids } from '../../src/use-cases/records';
import { newWorld, play } from '../support/crash-world';
import type { World, WorldStep } from '../support/crash-world';
import { memoryProcessor } from '../support/memory-processor';
import { MemoryRosterStore } from '../support/memory-roster';
import { miniSchool } from '../support/mini-school';
import { snapshotEvents } from '../support/school-feed';
import type { Datasets } from '../support/school-feed';
import { storedRoster } from '../support/stored-roster';

// A school's runs reach the roster in the order the connector fetched them, but not always: a run
// whose last chunk came late (it waited in `waiting`), or a dead-letter replay, can complete after a
// newer run of the school. Applying the older document then would take the roster back in time —
// and remove the people the newer run added, as leavers.

const T = 'school-1';
const logger = createLogger({ service: 'roster-run-order', level: 'silent' });
const feed = (
  syncRunId: string,
  datasets: Datasets,
  fetchedAt: string,
  only?: 'chunks' | 'marker',
  fetchSequence?: number,
): WorldStep => ({
  kind: 'feed',
  tenantId: T,
  syncRunId,
  datasets,
  fetchedAt,
  ...(only ? { only } : {}),
  ...(fetchSequence === undefined ? {} : { fetchSequence }),
});

const activePupils = async (world: World) =>
  (await storedRoster(new MemoryRosterStore(world.state), T)).filter(
    (e) => e.t === 'pupil' && e.status === 'active',
  ).length;
const changeset = (world: World, run: string) => world.state.changesets.get(ids.changeset(T, run));
const removals = (world: World) =>
  world.broker.events('changes').filter((e) => (e.data as { change?: string }).change === 'removed');

describe('runs completing out of the order they were fetched', () => {
  it('an older run that completes after a newer one was applied is not applied (no joiner removed)', async () => {
    const world = newWorld();
    await play(world, [
      feed('run-0', miniSchool(40), '2026-11-30T07:00:00Z'),
      feed('run-1', miniSchool(40), '2026-11-30T08:00:00Z', 'chunks'),
      feed('run-2', miniSchool(43), '2026-11-30T09:00:00Z'),
      feed('run-1', miniSchool(40), '2026-11-30T08:00:00Z', 'marker'),
    ]);
    expect(await activePupils(world)).toBe(43);
    expect(removals(world)).toEqual([]);
    expect(changeset(world, 'run-2')).toMatchObject({ state: 'done', outcome: 'applied' });
    expect(changeset(world, 'run-1')).toMatchObject({
      state: 'done',
      outcome: 'failed',
      error: { code: 'ROSTER_RUN_SUPERSEDED', transient: false },
    });
    // The connector is told: the run's report says it failed, and why.
    const report = world.broker
      .events('run')
      .filter((e) => (e.data as { syncRunId?: string }).syncRunId === 'run-1')
      .at(-1);
    expect(report?.data).toMatchObject({ status: 'failed', error: { code: 'ROSTER_RUN_SUPERSEDED' } });
  });

  it('runs completing in order are applied in order', async () => {
    const world = newWorld();
    await play(world, [
      feed('run-0', miniSchool(40), '2026-11-30T07:00:00Z'),
      feed('run-1', miniSchool(41), '2026-11-30T08:00:00Z'),
      feed('run-2', miniSchool(43), '2026-11-30T09:00:00Z'),
    ]);
    expect(await activePupils(world)).toBe(43);
    for (const run of ['run-0', 'run-1', 'run-2'])
      expect(changeset(world, run)).toMatchObject({ state: 'done', outcome: 'applied' });
  });

  it("a run does not plan while another of its school's changesets is applying", async () => {
    const world = newWorld();
    await play(world, [feed('run-0', miniSchool(40), '2026-11-30T07:00:00Z')]);
    // run-1's apply fails once (a database outage), leaving it `applying`; run-2 arrives meanwhile.
    let failures = 1;
    const background: Promise<void>[] = [];
    const store = new MemoryRosterStore(world.state);
    const processor = memoryProcessor(world.state, {
      store,
      publisher: world.broker,
      logger,
      background: (w) => background.push(w.catch(() => undefined)),
      beforeStep: (step, id) => {
        if (step === 'apply' && id === ids.changeset(T, 'run-1') && failures-- > 0)
          throw new Error('database unavailable');
      },
    });
    const { handler } = rawDatasetsHandlers({
      store,
      processor,
      now: () => new Date('2026-11-30T09:30:00Z'),
      background: (w) => background.push(w.catch(() => undefined)),
    });
    const ctx = { topic: 'raw', partition: 0, offset: '0', attempt: 1, bytes: 0, logger } as never;
    const deliver = async (run: string, datasets: Datasets, fetchedAt: string) => {
      const { chunks, marker } = snapshotEvents(T, run, datasets, { fetchedAt });
      for (const e of [...chunks, marker]) {
        await handler(e, ctx);
        while (background.length > 0) await background.shift();
      }
    };
    await deliver('run-1', miniSchool(41), '2026-11-30T08:00:00Z');
    expect(changeset(world, 'run-1')?.state).toBe('applying');
    await deliver('run-2', miniSchool(43), '2026-11-30T09:00:00Z');
    expect(changeset(world, 'run-2')?.state).toBe('staged');
    // The sweep finishes run-1, then run-2 plans against what run-1 applied.
    await processor.resumeAll();
    await processor.resumeAll();
    expect(changeset(world, 'run-1')).toMatchObject({ state: 'done', outcome: 'applied' });
    expect(changeset(world, 'run-2')).toMatchObject({ state: 'done', outcome: 'applied' });
    expect(await activePupils(world)).toBe(43);
    expect(removals(world)).toEqual([]);
  });
});

// The connector's replicas' clocks may disagree (by less than its run lease, 60 s): a run's
// `fetchedAt` is the clock of the replica that fetched it. The marker's `fetchSequence`, taken from
// the school's counter as the run starts fetching, is the order no clock decides.
describe("runs ordered by the connector's fetch sequence, not its replicas' clocks", () => {
  const expectSuperseded = (world: World, run: string) =>
    expect(changeset(world, run)).toMatchObject({
      state: 'done',
      outcome: 'failed',
      error: { code: 'ROSTER_RUN_SUPERSEDED' },
    });

  it('a newer run fetched by a replica whose clock is 20 s behind the last one’s is applied (its joiners too)', async () => {
    const world = newWorld();
    await play(world, [
      feed('run-1', miniSchool(40), '2026-11-30T08:00:30Z', undefined, 1),
      feed('run-2', miniSchool(43), '2026-11-30T08:00:10Z', undefined, 2),
    ]);
    expect(changeset(world, 'run-2')).toMatchObject({ state: 'done', outcome: 'applied' });
    expect(await activePupils(world)).toBe(43);
  });

  it('an older run completing after a newer one is not applied, though its replica’s clock was ahead', async () => {
    const world = newWorld();
    await play(world, [
      feed('run-0', miniSchool(40), '2026-11-30T07:00:00Z', undefined, 1),
      feed('run-1', miniSchool(40), '2026-11-30T08:00:30Z', 'chunks', 2),
      feed('run-2', miniSchool(43), '2026-11-30T08:00:10Z', undefined, 3),
      feed('run-1', miniSchool(40), '2026-11-30T08:00:30Z', 'marker', 2),
    ]);
    expect(changeset(world, 'run-2')).toMatchObject({ state: 'done', outcome: 'applied' });
    expectSuperseded(world, 'run-1');
    // The message names the order the roster used: the fetch numbers, not the replicas' clocks.
    expect(changeset(world, 'run-1')?.error?.message).toBe(
      'Run run-1 was not applied: a run of this school fetched after it (fetch #3; this run #2) was applied first, and applying the older document would undo it',
    );
    expect(await activePupils(world)).toBe(43);
    expect(removals(world)).toEqual([]);
  });

  it('a marker without a sequence (from a connector before it) is ordered by fetchedAt against one with', async () => {
    const world = newWorld();
    await play(world, [
      feed('run-1', miniSchool(40), '2026-11-30T08:00:00Z', 'chunks'),
      feed('run-2', miniSchool(43), '2026-11-30T09:00:00Z', undefined, 5),
      feed('run-1', miniSchool(40), '2026-11-30T08:00:00Z', 'marker'),
    ]);
    expectSuperseded(world, 'run-1');
    expect(changeset(world, 'run-1')?.error?.message).toBe(
      'Run run-1 (fetched 2026-11-30T08:00:00Z) was not applied: a run of this school fetched after it (at 2026-11-30T09:00:00.000Z; with no fetch number on one of them, their fetch times decided) was applied first, and applying the older document would undo it',
    );
    expect(await activePupils(world)).toBe(43);
  });

  it('a run with a sequence after one applied without (before the deploy) is ordered by fetchedAt', async () => {
    const world = newWorld();
    await play(world, [
      feed('run-1', miniSchool(43), '2026-11-30T09:00:00Z'),
      feed('run-2', miniSchool(40), '2026-11-30T08:59:00Z', undefined, 1),
      feed('run-3', miniSchool(41), '2026-11-30T09:30:00Z', undefined, 2),
      // Both sides have one now: the sequence decides, not this replica's clock (behind).
      feed('run-4', miniSchool(42), '2026-11-30T09:29:50Z', undefined, 3),
    ]);
    expectSuperseded(world, 'run-2');
    expect(changeset(world, 'run-3')).toMatchObject({ state: 'done', outcome: 'applied' });
    expect(changeset(world, 'run-4')).toMatchObject({ state: 'done', outcome: 'applied' });
    expect(await activePupils(world)).toBe(42);
  });
});
