import { describe, expect, it } from 'vitest';
import type { CloudEvent } from '@isams-sync/events';
import type { ConsumerContext } from '@isams-sync/kafka';
import { createLogger } from '@isams-sync/logger';
import { rawDatasetsHandlers } from '../../src/handlers/kafka/raw-datasets.handler';
import type { ChangesetProcessor } from '../../src/use-cases/changeset-processor';
import { memoryProcessor } from '../support/memory-processor';
import { RosterQueries } from '../../src/use-cases/roster-queries';
import { ids } from '../../src/use-cases/records';
import { newWorld, play, processMemory } from '../support/crash-world';
import type { World, WorldStep } from '../support/crash-world';
import { MemoryPublisher, MemoryRosterStore } from '../support/memory-roster';
import { miniSchool } from '../support/mini-school';
import { storedRoster } from '../support/stored-roster';
import { snapshotEvents } from '../support/school-feed';
import type { Datasets } from '../support/school-feed';

// The connector publishes a dataset's chunks as soon as it has read the dataset, so one run can carry
// a dataset twice, with different fingerprints and chunk counts (a container that appears twice in
// the document, a whole-key fetch that failed part-way and was fetched again while the data changed).
// Only the version whose fingerprint the run-complete marker names counts; the other is staged beside
// it (chunks are keyed by fingerprint) and never read.

const T = 'school-1';
const RUN = 'run-a';
const CHUNK_SIZE = 15;
const logger = createLogger({ service: 'roster-dataset-versions', level: 'silent' });
const step = (datasets: Datasets, only?: 'chunks' | 'marker'): WorldStep => ({
  kind: 'feed',
  tenantId: T,
  syncRunId: RUN,
  datasets,
  chunkSize: CHUNK_SIZE,
  ...(only === undefined ? {} : { only }),
});
// The abandoned version of the pupils: 40 (3 chunks of 15), one of them with another surname; the
// school's other datasets are as in the final version (same fingerprints: the same chunks).
const ABANDONED = miniSchool(40, { renamed: { 1: 'Abandoned' } });
// The final version the marker names: 25 pupils (2 chunks), and the rest of the school.
const FINAL = miniSchool(25, { renamed: { 2: 'Final' } });

async function outcome(world: World) {
  const store = new MemoryRosterStore(world.state);
  const content = (e: CloudEvent) =>
    JSON.stringify({ id: e.id, type: e.type, subject: e.subject, data: e.data });
  return {
    roster: await storedRoster(store, T),
    changesets: [...world.state.changesets.values()].map(
      (cs) => `${cs._id}:${cs.state}:${cs.outcome ?? ''}:${cs.error?.code ?? ''}`,
    ),
    changes: world.broker.events('changes').map(content),
    state: world.broker.events('state').map(content),
  };
}

/** The run as if only the final version had ever been published. */
async function reference() {
  const world = newWorld();
  await play(world, [step(FINAL)], undefined, { memory: false });
  return outcome(world);
}

const surnames = (o: Awaited<ReturnType<typeof outcome>>) => JSON.stringify(o.roster);

describe.each([
  ['in hand', true],
  ['read from the store', false],
] as const)('a run whose dataset was published twice (chunks %s)', (_, remembers) => {
  const memory = () => (remembers ? { memory: processMemory() } : { memory: false as const });

  it('applies exactly the version the marker names', async () => {
    const world = newWorld();
    await play(world, [step(ABANDONED, 'chunks'), step(FINAL)], undefined, memory());
    const got = await outcome(world);
    expect(got.changesets).toEqual([`${ids.changeset(T, RUN)}:done:applied:`]);
    expect(got.roster.filter((e) => e.t === 'pupil')).toHaveLength(25);
    expect(surnames(got)).toContain('Final');
    expect(surnames(got)).not.toContain('Abandoned');
    expect(got).toEqual(await reference());
  });

  it('waits while only the other version is staged, and applies the named one once it is', async () => {
    const world = newWorld();
    await play(world, [step(ABANDONED, 'chunks'), step(FINAL, 'marker')], undefined, memory());
    const waiting = await outcome(world);
    expect(waiting.changesets).toEqual([`${ids.changeset(T, RUN)}:waiting::`]);
    expect(waiting.roster).toEqual([]);

    await play(world, [step(FINAL, 'chunks')], undefined, memory());
    expect(await outcome(world)).toEqual(await reference());
  });
});

it('a preview of a run whose marker names a version not staged yet says the snapshot is incomplete', async () => {
  // Staged and registered by a process that does not advance the run (another replica holds the school).
  const world = newWorld();
  const store = new MemoryRosterStore(world.state);
  const processor = memoryProcessor(world.state, {
    store,
    publisher: new MemoryPublisher(),
    logger,
    background: () => {},
  });
  const stageOnly = {
    registerMarker: processor.registerMarker.bind(processor),
    onChunkStaged: async () => {},
    advance: async () => {},
  } as unknown as ChangesetProcessor;
  const { handler } = rawDatasetsHandlers({
    store,
    processor: stageOnly,
    now: () => new Date(0),
    background: () => {},
  });
  const deliver = async (datasets: Datasets, only: 'chunks' | 'marker') => {
    const { chunks, marker } = snapshotEvents(T, RUN, datasets, { chunkSize: CHUNK_SIZE });
    for (const e of only === 'chunks' ? chunks : [marker])
      await handler(e, { bytes: 0, logger } as unknown as ConsumerContext);
  };
  const queries = new RosterQueries(store, processor, { percent: 10, min: 5 });

  await deliver(ABANDONED, 'chunks');
  await deliver(FINAL, 'marker');
  await expect(queries.dryRunSnapshot(T, RUN)).rejects.toMatchObject({ code: 'ROSTER_SNAPSHOT_INCOMPLETE' });

  await deliver(FINAL, 'chunks');
  const plan = await queries.dryRunSnapshot(T, RUN);
  const pupils = plan.changes.filter((c) => c.entityType === 'pupil');
  expect(pupils).toHaveLength(25);
  expect(JSON.stringify(pupils)).toContain('Final');
  expect(JSON.stringify(pupils)).not.toContain('Abandoned');
});
