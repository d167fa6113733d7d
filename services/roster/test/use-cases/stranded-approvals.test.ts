import { describe, expect, it } from 'vitest';
import { createLogger } from '@isams-sync/logger';
import { memoryProcessor } from '../support/memory-processor';
import { APPROVAL_RECOVERY_WINDOW_MS, HeldBatches } from '../../src/use-cases/held-batches';
import { ids } from '../../src/use-cases/records';
import type { HeldBatchDoc } from '../../src/use-cases/records';
import { MemoryPublisher, MemoryRosterStore, emptyRosterState } from '../support/memory-roster';

const NOW = new Date('2026-12-04T09:00:00Z');

function approved(tenantId: string, batchId: string, decidedAt: Date): HeldBatchDoc {
  return {
    _id: ids.heldBatch(tenantId, batchId),
    tenantId,
    batchId,
    syncRunId: `run-${batchId}`,
    status: 'approved',
    createdAt: new Date(decidedAt.getTime() - 60_000),
    heldTypes: {},
    countsByType: { pupil: 1 },
    total: 1,
    decidedBy: 'admin:1',
    decidedAt,
    comment: 'leavers confirmed',
    approvalChangesetId: ids.changeset(tenantId, `run-${batchId}`, 'approval'),
  };
}

/** The held-batch actions over in-memory ports; the background work is kept, not run. */
function setUp() {
  const state = emptyRosterState();
  const store = new MemoryRosterStore(state);
  const background: Promise<void>[] = [];
  const publisher = new MemoryPublisher();
  const processor = memoryProcessor(state, {
    store,
    publisher,
    logger: createLogger({ service: 'roster-test', level: 'silent' }),
    background: (work) => background.push(work.catch(() => undefined)),
    now: () => NOW,
  });
  const add = (b: HeldBatchDoc) => state.heldBatches.set(b._id, b);
  return { state, store, held: new HeldBatches(store, processor, publisher, () => NOW), add };
}

describe('HeldBatches.resumeStrandedApprovals (the sweeper)', () => {
  it('creates the missing changeset of a recent approval, with its decision, and leaves one that has it', async () => {
    const { store, held, add } = setUp();
    add(approved('school-a', 'b1', new Date(NOW.getTime() - 120_000)));
    expect(await held.resumeStrandedApprovals(NOW)).toEqual({ resumed: ['b1'], failed: [] });
    const cs = await store.getChangeset('school-a', ids.changeset('school-a', 'run-b1', 'approval'));
    expect(cs).toMatchObject({ kind: 'approval', heldBatchId: 'b1', approvedBy: 'admin:1', state: 'staged' });
    // The next sweep finds the changeset and does nothing.
    expect(await held.resumeStrandedApprovals(NOW)).toEqual({ resumed: [], failed: [] });
  });

  it('never touches an approval older than the window: its changeset may have been pruned, and re-creating it would apply the batch again', async () => {
    const { store, held, add } = setUp();
    add(approved('school-a', 'old', new Date(NOW.getTime() - APPROVAL_RECOVERY_WINDOW_MS - 1)));
    expect(await held.resumeStrandedApprovals(NOW)).toEqual({ resumed: [], failed: [] });
    expect(await store.getChangeset('school-a', ids.changeset('school-a', 'run-old', 'approval'))).toBeNull();
  });

  it('leaves a school another replica holds to the next sweep, and one failure does not stop the others', async () => {
    const { state, store, held, add } = setUp();
    add(approved('school-busy', 'b1', new Date(NOW.getTime() - 180_000)));
    state.leases.set('school-busy', { generation: 3, holder: 'replica-2' });
    add(approved('school-b', 'b2', new Date(NOW.getTime() - 120_000)));
    add(approved('school-c', 'b3', new Date(NOW.getTime() - 60_000)));
    const getChangeset = store.getChangeset.bind(store);
    store.getChangeset = async (tenantId, id) => {
      if (tenantId === 'school-b') throw new Error('database unavailable');
      return getChangeset(tenantId, id);
    };
    const result = await held.resumeStrandedApprovals(NOW);
    expect(result.resumed).toEqual(['b3']);
    expect(result.failed).toMatchObject([
      { tenantId: 'school-b', batchId: 'b2', err: { message: 'database unavailable' } },
    ]);
    expect(
      await store.getChangeset('school-busy', ids.changeset('school-busy', 'run-b1', 'approval')),
    ).toBeNull();
    // The other replica lets go: the next sweep resumes it.
    state.leases.set('school-busy', { generation: 3, holder: null });
    store.getChangeset = getChangeset;
    expect((await held.resumeStrandedApprovals(NOW)).resumed).toEqual(['b1', 'b2']);
  });
});
