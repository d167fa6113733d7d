import { describe, expect, it } from 'vitest';
import { newWorld, play } from '../support/crash-world';
import type { World, WorldStep } from '../support/crash-world';
import { MemoryRosterStore } from '../support/memory-roster';
import { miniSchool } from '../support/mini-school';
import { namedSchool } from '../support/named-school';
import { el } from '../support/raw';
import type { Datasets } from '../support/school-feed';
import { storedRoster } from '../support/stored-roster';

// A held batch's items of a type a later run could not judge (its dataset had a record that could
// not be identified) stay in the batch: the run cannot tell who is missing. But the run can tell who
// is THERE: the people it sent are not gone, and a removal or foreign image of them that stays in
// the batch would be applied to people iSAMS still sends as they are, when an admin approves it: the
// merge drops the earlier items of entities the run sent (`mergeBatchItems`, its `sent`).

const T = 'school-1';
const feed = (syncRunId: string, datasets: Datasets, fetchSequence: number): WorldStep => ({
  kind: 'feed',
  tenantId: T,
  syncRunId,
  datasets,
  fetchSequence,
});
const approve = (batchId: string): WorldStep => ({ kind: 'approve', tenantId: T, batchId, actor: 'admin' });
const pupils = async (world: World) =>
  (await storedRoster(new MemoryRosterStore(world.state), T)).filter((e) => e.t === 'pupil');
/** A pupil row whose `Id` cannot be read: the pupils dataset is incomplete, no pupil is removed. */
const unidentifiedPupil = el('Pupil', { Id: '12a' }, [el('Forename', {}, 'Unreadable')]);

describe('a pending batch and a later run that sends its people but cannot be judged', () => {
  it('approving removes nobody the later run still sent', async () => {
    const world = newWorld();
    await play(world, [
      feed('run-0', miniSchool(40), 1),
      // 10 of 40 missing: held (more than 10 % and more than 5)
      feed('run-1', miniSchool(40, { without: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] }), 2),
      // everyone sent again, beside one row whose id cannot be read
      feed('run-2', miniSchool(40, { extra: [unidentifiedPupil] }), 3),
    ]);
    const batch = world.state.heldBatches.get(`${T}|held-run-1`);
    if (batch?.status === 'pending') await play(world, [approve('held-run-1')]);
    expect((await pupils(world)).filter((p) => p.status !== 'active').map((p) => p.id)).toEqual([]);
  });

  it('approving a whole-run batch of another school does not put its people over those our next run sent', async () => {
    const world = newWorld();
    const a = namedSchool('A');
    await play(world, [
      feed('run-0', a, 1),
      // school B's document under our key: held whole
      feed('run-1', namedSchool('B'), 2),
      // our own document again, beside one pupil row whose id cannot be read
      feed('run-2', { ...a, currentPupils: [...a.currentPupils!, unidentifiedPupil] }, 3),
    ]);
    const batch = world.state.heldBatches.get(`${T}|held-run-1`);
    if (batch?.status === 'pending') await play(world, [approve('held-run-1')]);
    const foreign = (await pupils(world)).filter((p) => String(p.data.forename).startsWith('Bea'));
    expect(foreign.map((p) => p.id)).toEqual([]);
  });
});
