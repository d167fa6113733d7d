import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '@isams-sync/logger';
import { MongoErrors } from '@isams-sync/mongo';
import { ids } from '../../src/use-cases/records';
import { newWorld, play } from '../support/crash-world';
import type { WorldStep } from '../support/crash-world';
import { memoryProcessor } from '../support/memory-processor';
import { MemoryRosterStore } from '../support/memory-roster';
import { miniSchool } from '../support/mini-school';

// A changeset step whose store write fails every time with the same error that is not an outage.
// What the processor does with it depends on the error's kind (`advanceLocked`): `invalid_argument`
// (bad input) fails the changeset; any other kind is taken as possibly transient and left to the
// next sweep, which tries the step again — for ever, if it never succeeds.

const T = 'school-1';
const logger = createLogger({ service: 'roster-store-error-step', level: 'silent' });
const FIRST: WorldStep = { kind: 'feed', tenantId: T, syncRunId: 'run-a', datasets: miniSchool(40) };
const csId = ids.changeset(T, 'run-a');

afterEach(() => vi.restoreAllMocks());

describe('a changeset step that fails every time with the same store error', () => {
  it('MONGO_ERROR (kind internal): the changeset stays in its step, every sweep tries it again and fails the same way', async () => {
    vi.spyOn(MemoryRosterStore.prototype, 'updateManifest').mockRejectedValue(
      MongoErrors.MONGO_ERROR({ operation: 'bulkWrite', collection: 'entityManifests' }),
    );
    const world = newWorld();
    await expect(play(world, [FIRST])).rejects.toMatchObject({ code: 'MONGO_ERROR' });
    const processor = memoryProcessor(world.state, {
      store: new MemoryRosterStore(world.state),
      publisher: world.broker,
      logger,
    });
    for (let sweep = 0; sweep < 3; sweep += 1)
      await expect(processor.resumeAll()).rejects.toMatchObject({ code: 'MONGO_ERROR' });
    expect(world.state.changesets.get(csId)).toMatchObject({ state: 'applying' });
    expect(world.state.changesets.get(csId)?.outcome).toBeUndefined();
  });

  it('an invalid_argument error (bad input): the changeset ends failed at its first try — after what the step wrote and published before it', async () => {
    vi.spyOn(MemoryRosterStore.prototype, 'updateManifest').mockRejectedValue(
      MongoErrors.MONGO_INVALID_DOCUMENT({ reason: 'too large' }),
    );
    const world = newWorld();
    await play(world, [FIRST]);
    expect(world.state.changesets.get(csId)).toMatchObject({
      state: 'done',
      outcome: 'failed',
      error: { code: 'MONGO_INVALID_DOCUMENT', transient: false },
    });
    // The manifest is the `applying` step's last write: the entity documents and their events stand.
    expect([...world.state.entities.keys()].filter((k) => k.startsWith(`${T}|pupil|`))).toHaveLength(40);
    expect(world.broker.events('changes').length).toBeGreaterThan(0);
  });
});
