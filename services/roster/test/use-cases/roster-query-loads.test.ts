import { describe, expect, it } from 'vitest';
import type { RosterEntityType } from '@isams-sync/events';
import { createLogger } from '@isams-sync/logger';
import { memoryProcessor } from '../support/memory-processor';
import type { RosterEntity } from '../../src/domain/roster-model';
import { ids } from '../../src/use-cases/records';
import type { EntityDoc, HeldBatchDoc, StoredChange } from '../../src/use-cases/records';
import { RosterQueries } from '../../src/use-cases/roster-queries';
import {
  MemoryPublisher,
  MemoryRosterStore,
  emptyRosterState,
  putActiveEntity,
} from '../support/memory-roster';

/**
 * The roster's whole-set reads under many callers (audit grpc-s51: forty concurrent lists of one
 * school's contacts, each loading the whole type, took the roster past its memory limit, and the
 * loads went on after every caller had given up).
 */

/** A store whose entity reads are counted and held until `release()`. */
class HeldStore extends MemoryRosterStore {
  reads: string[] = [];
  running = 0;
  maxRunning = 0;
  private gate = Promise.withResolvers<void>();

  release(): void {
    this.gate.resolve();
  }

  override async listEntityDocs(
    tenantId: string,
    entityType?: RosterEntityType,
    status?: EntityDoc['status'],
  ): Promise<EntityDoc[]> {
    this.reads.push(`${tenantId}/${entityType}`);
    this.running += 1;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      // Read when asked (a load began before anything written after), answered once released.
      const docs = await super.listEntityDocs(tenantId, entityType, status);
      await this.gate.promise;
      return docs;
    } finally {
      this.running -= 1;
    }
  }
}

function setUp() {
  const state = emptyRosterState();
  const store = new HeldStore(state);
  const processor = memoryProcessor(state, {
    store,
    publisher: new MemoryPublisher(),
    logger: createLogger({ service: 'roster-test', level: 'silent' }),
  });
  const queries = new RosterQueries(store, processor, { percent: 10, min: 5 });
  const add = (tenantId: string, entityType: RosterEntityType, id: string, forename = 'Ann') =>
    putActiveEntity(state, tenantId, entityType, { id, forename, surname: 'Smith' } as RosterEntity);
  const list = (tenantId: string, entityType: RosterEntityType, signal?: AbortSignal, query?: string) =>
    queries.listEntities(
      tenantId,
      { entityType, status: 'active', filters: [], pageSize: 50, ...(query ? { query } : {}) },
      signal,
    );
  return { state, store, queries, add, list };
}

/** Lets every promise callback that can run now run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('RosterQueries: whole-set reads under many callers', () => {
  it('forty concurrent lists of one school’s type read it from the store at most three times, each caller getting its own page', async () => {
    const { store, add, list } = setUp();
    for (let i = 1; i <= 30; i += 1) add('school-a', 'contact', String(i), i % 2 === 0 ? 'Ann' : 'Bob');
    const calls = Array.from({ length: 40 }, (_, i) =>
      list('school-a', 'contact', undefined, i % 2 === 0 ? 'ann' : 'bob'),
    );
    await settle();
    store.release();
    const pages = await Promise.all(calls);
    expect(store.reads.length).toBeLessThanOrEqual(3);
    expect(pages[0]!.items.map((e) => e.entityId)).toEqual(
      Array.from({ length: 15 }, (_, i) => String(2 * (i + 1))),
    );
    expect(pages[1]!.items.map((e) => e.entityId)).toEqual(
      Array.from({ length: 15 }, (_, i) => String(2 * i + 1)),
    );
  });

  it('a caller that gives up while its list waits is answered with its reason at once, and its list is never read', async () => {
    const { store, add, list } = setUp();
    add('school-a', 'contact', '1');
    add('school-a', 'pupil', '1');
    add('school-a', 'staff', '1');
    const busy = [list('school-a', 'contact'), list('school-a', 'pupil')];
    await settle();
    const gaveUp = new AbortController();
    const waiting = list('school-a', 'staff', gaveUp.signal);
    gaveUp.abort(new Error('deadline passed'));
    await expect(waiting).rejects.toThrow('deadline passed');
    store.release();
    await Promise.all(busy);
    await settle();
    expect(store.reads).toEqual(['school-a/contact', 'school-a/pupil']);
  });

  it('at most four loads run at once across schools, two of one school', async () => {
    const { store, add, list } = setUp();
    const schools = Array.from({ length: 10 }, (_, i) => `school-${i}`);
    for (const s of schools) for (const t of ['contact', 'pupil', 'staff'] as const) add(s, t, '1');
    const calls = schools.flatMap((s) => [list(s, 'contact'), list(s, 'pupil'), list(s, 'staff')]);
    await settle();
    expect(store.running).toBeLessThanOrEqual(4);
    // In arrival order: school-0's third waits for one of its two, and the process is full after school-1's two.
    expect(store.reads).toEqual(['school-0/contact', 'school-0/pupil', 'school-1/contact', 'school-1/pupil']);
    store.release();
    const pages = await Promise.all(calls);
    expect(pages.every((p) => p.items.length === 1)).toBe(true);
    expect(store.maxRunning).toBeLessThanOrEqual(4);
    expect(store.reads).toHaveLength(30);
  });

  it('a list asked after a load of the same type began is not answered by it: it sees what was written before it was asked', async () => {
    const { store, add, list } = setUp();
    add('school-a', 'contact', '1');
    const first = list('school-a', 'contact');
    await settle();
    add('school-a', 'contact', '2');
    const second = list('school-a', 'contact');
    store.release();
    expect((await first).items.map((e) => e.entityId)).toEqual(['1']);
    expect((await second).items.map((e) => e.entityId)).toEqual(['1', '2']);
  });
  it('a held batch asked for after a later run changed it is answered with that version’s items, not the version another caller’s queued load read', async () => {
    const { state, store, queries, add, list } = setUp();
    add('school-a', 'contact', '1');
    add('school-a', 'pupil', '1');
    const removal = (id: string): StoredChange =>
      ({
        entityType: 'pupil',
        entityId: id,
        change: 'removed',
        disposition: 'held',
        before: { id },
      }) as never;
    const version = (n: number, items: StoredChange[]): HeldBatchDoc => {
      const changesetId = ids.heldItems('school-a', 'held-r2', n);
      state.changeChunks.set(ids.changeChunk(changesetId, 0), {
        _id: ids.changeChunk(changesetId, 0),
        tenantId: 'school-a',
        changesetId,
        chunkNo: 0,
        changes: items,
      });
      return {
        _id: ids.heldBatch('school-a', 'held-r2'),
        tenantId: 'school-a',
        batchId: 'held-r2',
        syncRunId: 'r2',
        status: 'pending',
        createdAt: new Date('2026-01-02T00:00:00Z'),
        version: n,
        itemsChangesetId: changesetId,
        itemChunkCount: 1,
        heldTypes: {},
        countsByType: { pupil: items.length },
        total: items.length,
        kind: 'removals',
      } as HeldBatchDoc;
    };
    state.heldBatches.set(ids.heldBatch('school-a', 'held-r2'), version(1, [removal('7')]));
    const busy = [list('school-a', 'contact'), list('school-a', 'pupil')];
    await settle();
    const first = queries.getHeldBatch('school-a', 'held-r2', {}, 50);
    await settle();
    state.heldBatches.set(ids.heldBatch('school-a', 'held-r2'), version(2, [removal('7'), removal('8')]));
    const second = queries.getHeldBatch('school-a', 'held-r2', {}, 50);
    await settle();
    store.release();
    await Promise.all(busy);
    expect((await first).records.items.map((c) => c.entityId)).toEqual(['7']);
    const latest = await second;
    expect(latest.batch.version).toBe(2);
    expect(latest.records.items.map((c) => c.entityId)).toEqual(['7', '8']);
  });
});
