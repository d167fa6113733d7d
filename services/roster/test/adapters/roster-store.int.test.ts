import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '@isams-sync/errors';
import { MongoErrors } from '@isams-sync/mongo';
import type { Fence } from '@isams-sync/mongo';
import { createTestDatabase, uniqueName } from '@isams-sync/testing';
import type { TestDatabase } from '@isams-sync/testing';
import { chunkOf } from '../../src/adapters/mongo/documents';
import type { EntityBucketDoc } from '../../src/adapters/mongo/documents';
import {
  entityDocOf,
  ids,
  imageHash,
  manifestEntryOf,
  markerStaged,
  stagedCount,
} from '../../src/use-cases/records';
import type { EntityRecord } from '../../src/use-cases/records';
import { COLLECTIONS, RosterStore } from '../../src/adapters/mongo/roster-store';
import { pupilRecord } from '../support/entity-record';
import { testLease } from '../support/test-lease';

let db: TestDatabase;
let store: RosterStore;

beforeAll(async () => {
  db = await createTestDatabase('roster_store');
  store = new RosterStore(db.db);
  await store.init();
});
afterAll(async () => db?.drop());

const record = pupilRecord;

describe('RosterStore (integration)', () => {
  it('stores one plain document per entity and a packed manifest; reads back exactly the tenant’s own', async () => {
    const mine = uniqueName('t');
    const other = uniqueName('t');
    const docs = ['1', '2', '3', '4', '5'].map((id) => entityDocOf(mine, record(id)));
    await store.putEntities(docs, () => true);
    await store.updateManifest(mine, docs.map(manifestEntryOf));
    const theirs = [entityDocOf(other, record('9'))];
    await store.putEntities(theirs, () => true);
    await store.updateManifest(other, theirs.map(manifestEntryOf));

    const raw = await db.db
      .collection(COLLECTIONS.entities)
      .findOne({ _id: ids.entity(mine, 'pupil', '4') as never });
    expect(raw).toMatchObject({
      tenantId: mine,
      entityType: 'pupil',
      entityId: '4',
      status: 'active',
      image: { id: '4', surname: 'S4' },
      hash: imageHash({ id: '4', surname: 'S4' } as never),
    });
    const manifestRaw = await db.db
      .collection(COLLECTIONS.entityManifests)
      .findOne({ _id: ids.manifest(mine, 'pupil', chunkOf('4')) as never });
    expect(manifestRaw).not.toHaveProperty('entries');
    expect(manifestRaw?.packed).toBeDefined();

    const manifest = await store.loadManifest(mine);
    expect([...manifest.pupil!.keys()].sort()).toEqual(['1', '2', '3', '4', '5']);
    expect(manifest.pupil!.get('4')).toEqual({ id: '4', hash: raw?.hash, status: 'active' });
    expect(await store.entity(mine, 'pupil', '4')).toEqual(record('4'));
    expect(await store.entity(mine, 'pupil', '9')).toBeNull();
    expect((await store.listEntityDocs(mine, 'pupil')).map((d) => d.entityId).sort()).toEqual([
      '1',
      '2',
      '3',
      '4',
      '5',
    ]);
    expect([...(await store.entityDocs(mine, 'pupil', ['2', '9'])).keys()]).toEqual(['2']);
  });

  it('an insert of an entity already stored (a rerun after a crash) replaces it', async () => {
    const t = uniqueName('t');
    await store.putEntities([entityDocOf(t, record('1', 'Old'))], () => true);
    await store.putEntities([entityDocOf(t, record('1', 'New')), entityDocOf(t, record('2'))], () => true);
    expect((await store.entity(t, 'pupil', '1'))?.data).toEqual({ id: '1', surname: 'New' });
    expect((await store.entity(t, 'pupil', '2'))?.data).toEqual({ id: '2', surname: 'S2' });
  });

  it('manifest updates rewrite only the entries given and keep the rest of the chunk', async () => {
    const t = uniqueName('t');
    const ids10 = Array.from({ length: 10 }, (_, i) => String(i + 1));
    await store.updateManifest(
      t,
      ids10.map((id) => manifestEntryOf(entityDocOf(t, record(id)))),
    );
    await store.updateManifest(t, [manifestEntryOf({ ...entityDocOf(t, record('3')), status: 'removed' })]);
    const m = (await store.loadManifest(t)).pupil!;
    expect(m.size).toBe(10);
    expect(m.get('3')?.status).toBe('removed');
    expect([...m.values()].filter((e) => e.status === 'active')).toHaveLength(9);
  });

  it('migrates a legacy bucketed roster to entity documents + manifest, idempotently, then drops the buckets', async () => {
    const t = uniqueName('t');
    const entityIds = ['1', '2', '3', '4', '5', '6', '7'];
    const byBucket = new Map<number, EntityRecord[]>();
    for (const id of entityIds)
      byBucket.set(chunkOf(id), [
        ...(byBucket.get(chunkOf(id)) ?? []),
        id === '6'
          ? {
              ...record(id),
              status: 'removed' as const,
              data: { id } as never,
              purged: true,
              purgedAt: '2026-11-20T00:00:00.000Z',
            }
          : record(id),
      ]);
    const buckets: EntityBucketDoc[] = [...byBucket].map(([n, entities]) => ({
      _id: ids.bucket(t, 'pupil', n),
      tenantId: t,
      entityType: 'pupil',
      bucket: n,
      entities,
    }));
    await store.insertPacked(COLLECTIONS.entityBuckets, buckets);
    expect(await store.legacyBucketTenants()).toContain(t);

    // A crash after the first bucket's entities were written (before its manifest or deletion):
    const first = buckets[0]!;
    await store.putEntities(
      first.entities.map((e) =>
        entityDocOf(t, { ...e, data: { id: e.entityId, surname: 'stale' } as never }),
      ),
      () => true,
    );
    expect(await store.migrateTenantBuckets(t)).toBe(entityIds.length);
    // Run again (a crash after deleting nothing more is covered by the same writes): nothing left to do.
    expect(await store.migrateTenantBuckets(t)).toBe(0);
    expect(await store.legacyBucketTenants()).not.toContain(t);
    expect(await db.db.collection(COLLECTIONS.entityBuckets).countDocuments({ tenantId: t })).toBe(0);

    const { stored, activeCounts } = await store.loadStored(t);
    expect(activeCounts.pupil).toBe(6);
    expect(stored.pupil?.get('1')?.data).toEqual({ id: '1', surname: 'S1' });
    expect(await store.entity(t, 'pupil', '6')).toMatchObject({ status: 'removed', purged: true });
    const m = (await store.loadManifest(t)).pupil!;
    expect(m.size).toBe(7);
    expect(m.get('6')).toEqual({
      id: '6',
      hash: imageHash({ id: '6' } as never),
      status: 'removed',
      purged: true,
    });
    expect(m.get('1')?.hash).toBe(imageHash({ id: '1', surname: 'S1' } as never));
  });

  it('a non-duplicate insert failure rejects with a MONGO_* AppError (it used to escape as an unhandled rejection)', async () => {
    const tenantId = uniqueName('t');
    // A field name FerretDB and MongoDB both refuse: the server rejects the insert.
    const bad = { _id: `${tenantId}|bad`, tenantId, ['$bad']: 1 };
    let caught: unknown;
    try {
      await store.insertAll(COLLECTIONS.settings, [bad]);
    } catch (err) {
      caught = err;
    }
    expect(caught).not.toBeInstanceOf(Promise);
    expect(isAppError(caught) && caught.code.startsWith('MONGO_')).toBe(true);
  });
});

describe('RosterStore staging (integration)', () => {
  const chunk = (t: string, fingerprint: string, chunkIndex: number, chunkCount: number, id: string) => ({
    _id: ids.chunk(t, 'run-1', 'currentPupils', fingerprint, chunkIndex),
    tenantId: t,
    syncRunId: 'run-1',
    datasetId: 'currentPupils' as const,
    chunkIndex,
    chunkCount,
    fingerprint,
    records: [{ name: 'Pupil', attributes: { Id: id }, children: [] }],
    receivedAt: new Date('2026-11-01T09:00:00.000Z'),
  });

  it('stages a chunk once: the first copy stays, and only the call that stored it says so', async () => {
    const t = uniqueName('t');
    const first = chunk(t, 'f1', 0, 1, '1');
    expect(await store.stageChunk(first)).toBe(true);
    expect(await store.stageChunk({ ...first, records: [] })).toBe(false);
    expect(await store.loadChunk(t, 'run-1', 'currentPupils', 'f1', 0)).toMatchObject({
      fingerprint: 'f1',
      records: first.records,
    });
    expect(await store.stagedChunks(t, 'run-1')).toEqual(
      new Map([['currentPupils', new Map([['f1', new Set([0])]])]]),
    );
  });

  it('stages two versions of a dataset side by side, and counts each by its fingerprint', async () => {
    const t = uniqueName('t');
    // The abandoned version: 3 chunks; the final one: 2 chunks with the same indexes 0 and 1.
    for (const i of [0, 1, 2]) expect(await store.stageChunk(chunk(t, 'fA', i, 3, `a${i}`))).toBe(true);
    for (const i of [0, 1]) expect(await store.stageChunk(chunk(t, 'fB', i, 2, `b${i}`))).toBe(true);

    expect(await store.loadChunk(t, 'run-1', 'currentPupils', 'fA', 0)).toMatchObject({
      fingerprint: 'fA',
      chunkCount: 3,
      records: [{ attributes: { Id: 'a0' } }],
    });
    expect(await store.loadChunk(t, 'run-1', 'currentPupils', 'fB', 0)).toMatchObject({
      fingerprint: 'fB',
      chunkCount: 2,
      records: [{ attributes: { Id: 'b0' } }],
    });
    expect(await store.loadChunk(t, 'run-1', 'currentPupils', 'fB', 2)).toBeNull();
    expect(await db.db.collection(COLLECTIONS.chunkReceipts).countDocuments({ tenantId: t })).toBe(5);

    // A receipt staged before chunks were keyed by fingerprint (none on it) counts for no version.
    await db.db.collection(COLLECTIONS.chunkReceipts).insertOne({
      _id: `${t}|run-1|currentPupils|2` as never,
      tenantId: t,
      syncRunId: 'run-1',
      datasetId: 'currentPupils',
      chunkIndex: 2,
    });
    const staged = await store.stagedChunks(t, 'run-1');
    expect(staged).toEqual(
      new Map([
        [
          'currentPupils',
          new Map([
            ['fA', new Set([0, 1, 2])],
            ['fB', new Set([0, 1])],
          ]),
        ],
      ]),
    );
    expect(stagedCount(staged, 'currentPupils', 'fB', 2)).toBe(2);
    expect(stagedCount(staged, 'currentPupils', 'fA', 3)).toBe(3);
    expect(stagedCount(staged, 'currentPupils', 'fC', 1)).toBe(0);
    const marker = (fingerprint: string, chunkCount: number) => ({
      datasets: [{ datasetId: 'currentPupils' as const, chunkCount, recordCount: chunkCount, fingerprint }],
    });
    expect(markerStaged(marker('fB', 2), staged)).toBe(true);
    expect(markerStaged(marker('fB', 3), staged)).toBe(false);

    await store.dropChunks(t, 'run-1');
    expect(await store.stagedChunks(t, 'run-1')).toEqual(new Map());
    expect(await db.db.collection(COLLECTIONS.rawChunks).countDocuments({ tenantId: t })).toBe(0);
  });
});

describe('RosterStore: finding the runs whose staged chunks the sweep judges (integration)', () => {
  const chunkAt = (t: string, run: string, chunkIndex: number, receivedAt: Date) => ({
    _id: ids.chunk(t, run, 'currentPupils', 'f1', chunkIndex),
    tenantId: t,
    syncRunId: run,
    datasetId: 'currentPupils' as const,
    chunkIndex,
    chunkCount: 3,
    fingerprint: 'f1',
    records: [{ name: 'Pupil', attributes: { Id: String(chunkIndex) }, children: [] }],
    receivedAt,
  });
  const cutoff = new Date('2026-11-30T09:30:00.000Z');
  const before = new Date('2026-11-30T09:00:00.000Z');
  const after = new Date('2026-11-30T09:45:00.000Z');
  const mine = (t: string, runs: { tenantId: string; syncRunId: string }[]) =>
    runs
      .filter((r) => r.tenantId === t)
      .map((r) => r.syncRunId)
      .sort();

  it('lists each run with a receipt before the cutoff once, in bounded batches, leaving out the runs named', async () => {
    const t = uniqueName('t');
    for (const i of [0, 1, 2]) await store.stageChunk(chunkAt(t, 'old', i, before));
    await store.stageChunk(chunkAt(t, 'mixed', 0, before));
    await store.stageChunk(chunkAt(t, 'mixed', 1, after));
    await store.stageChunk(chunkAt(t, 'new', 0, after));
    expect(
      await db.db.collection(COLLECTIONS.chunkReceipts).findOne({ tenantId: t, syncRunId: 'old' }),
    ).toMatchObject({ receivedAt: before });

    expect(mine(t, await store.runsStagedBefore(cutoff, 1000))).toEqual(['mixed', 'old']);
    expect(mine(t, await store.runsStagedBefore(cutoff, 1000, ['old']))).toEqual(['mixed']);
    // At most `limit` receipts are read (the other tests' old runs may come first).
    expect((await store.runsStagedBefore(cutoff, 2)).length).toBeLessThanOrEqual(2);

    expect(await store.newestChunkAt(t, 'old')).toEqual(before);
    expect(await store.newestChunkAt(t, 'mixed')).toEqual(after);
    expect(await store.newestChunkAt(t, 'gone')).toBeNull();
    await store.dropChunks(t, 'old');
    expect(mine(t, await store.runsStagedBefore(cutoff, 1000))).toEqual(['mixed']);
  });

  it('a chunk delivered again renews its receipt’s time (the chunk itself stays the first copy)', async () => {
    const t = uniqueName('t');
    expect(await store.stageChunk(chunkAt(t, 'run', 0, before))).toBe(true);
    expect(await store.stageChunk(chunkAt(t, 'run', 0, after))).toBe(false);
    expect(await store.newestChunkAt(t, 'run')).toEqual(after);
    expect((await store.loadChunk(t, 'run', 'currentPupils', 'f1', 0))?.receivedAt).toEqual(before);
    expect(mine(t, await store.runsStagedBefore(cutoff, 1000))).toEqual([]);
  });

  it('receipts staged before they recorded a time are listed too, and judged by their chunks’ time', async () => {
    const t = uniqueName('t');
    const legacy = async (run: string, chunkIndex: number, receivedAt: Date) => {
      await store.stageChunk(chunkAt(t, run, chunkIndex, receivedAt));
      // What the previous version wrote: the receipt without `receivedAt`.
      await db.db
        .collection(COLLECTIONS.chunkReceipts)
        .updateOne(
          { _id: ids.chunk(t, run, 'currentPupils', 'f1', chunkIndex) as never },
          { $unset: { receivedAt: '' } },
        );
    };
    await legacy('legacy-old', 0, before);
    await legacy('legacy-old', 1, before);
    await legacy('legacy-new', 0, after);
    // A receipt whose chunk is gone (a drop cut off between the two deletes): nothing dates it.
    await db.db.collection(COLLECTIONS.chunkReceipts).insertOne({
      _id: ids.chunk(t, 'receipt-only', 'currentPupils', 'f1', 0) as never,
      tenantId: t,
      syncRunId: 'receipt-only',
      datasetId: 'currentPupils',
      fingerprint: 'f1',
      chunkIndex: 0,
    });

    expect(mine(t, await store.runsStagedBefore(cutoff, 1000))).toEqual([
      'legacy-new',
      'legacy-old',
      'receipt-only',
    ]);
    expect(mine(t, await store.runsStagedBefore(cutoff, 1000, ['legacy-new', 'legacy-old']))).toEqual([
      'receipt-only',
    ]);
    expect(await store.newestChunkAt(t, 'legacy-old')).toEqual(before);
    expect(await store.newestChunkAt(t, 'legacy-new')).toEqual(after);
    expect(await store.newestChunkAt(t, 'receipt-only')).toEqual(new Date(0));
  });
});

describe('roster store: fenced manifest writes (integration)', () => {
  const lease = testLease;

  it('manifest chunks are written under the writer’s fence: refused once a newer holder exists, each chunk recording the token', async () => {
    const t = uniqueName('t');
    const { state, fenceOf } = lease(t, 7);
    // Enough entries for every chunk of two types: several chunks in one fenced write.
    const entries = Array.from({ length: 40 }, (_, i) =>
      manifestEntryOf(entityDocOf(t, record(String(i + 1)))),
    );
    await store.updateManifest(t, entries, fenceOf(7));
    const stored = await db.db
      .collection(COLLECTIONS.entityManifests)
      .find({ tenantId: t })
      .project({ fence: 1 })
      .toArray();
    expect(stored.length).toBeGreaterThan(1);
    expect(stored.map((d) => d.fence)).toEqual(stored.map(() => 7));
    state.current = 8;
    const refused = await store
      .updateManifest(t, [manifestEntryOf({ ...entityDocOf(t, record('3')), status: 'removed' })], fenceOf(7))
      .catch((e: unknown) => e);
    expect(MongoErrors.MONGO_FENCED.is(refused)).toBe(true);
    expect((await store.loadManifest(t)).pupil!.get('3')?.status).toBe('active');
  });

  it('a manifest chunk a newer holder wrote is not replaced by a stale writer that got past its check', async () => {
    const t = uniqueName('t');
    const { state, fenceOf } = lease(t, 8);
    const one = manifestEntryOf(entityDocOf(t, record('3')));
    await store.updateManifest(t, [one], fenceOf(8));
    // A holder of token 7 that stalled between its check and its write: its checks pass, its write
    // must still not replace the newer holder's chunk.
    state.current = 7;
    const refused = await store
      .updateManifest(t, [{ ...one, entry: { ...one.entry, status: 'removed' } }], fenceOf(7))
      .catch((e: unknown) => e);
    expect(MongoErrors.MONGO_FENCED.is(refused)).toBe(true);
    expect((await store.loadManifest(t)).pupil!.get('3')?.status).toBe('active');
  });
});

describe('RosterStore: what orders a school’s changesets (integration)', () => {
  const fence = (t: string): Fence => ({ key: `school:${t}`, token: 1, check: async () => undefined });

  it('records the changeset applying and the newest sync fetch, never moving that back', async () => {
    const t = uniqueName('t');
    expect(await store.changesetOrder(t)).toEqual({});
    expect(await store.nextChangesetNumber(t, fence(t))).toBe(1);
    expect(await store.changesetOrder(t)).toEqual({});
    const nine = new Date('2026-11-30T09:00:00Z');
    expect(
      await store.nextChangesetNumber(t, fence(t), { changesetId: `${t}|run-2`, syncFetchedAt: nine }),
    ).toBe(2);
    expect(await store.changesetOrder(t)).toEqual({ applying: `${t}|run-2`, lastSyncFetchedAt: nine });
    // An older sync run (and an approval, which has no fetch) start applying later: the newest stays.
    await store.nextChangesetNumber(t, fence(t), {
      changesetId: `${t}|run-1`,
      syncFetchedAt: new Date('2026-11-30T08:00:00Z'),
    });
    expect(await store.changesetOrder(t)).toEqual({ applying: `${t}|run-1`, lastSyncFetchedAt: nine });
    expect(await store.nextChangesetNumber(t, fence(t), { changesetId: `${t}|approval` })).toBe(4);
    expect(await store.changesetOrder(t)).toEqual({ applying: `${t}|approval`, lastSyncFetchedAt: nine });
    expect(await store.changesetOrder(uniqueName('t'))).toEqual({});
  });

  it('records the newest sync fetch sequence beside the newest fetch time, never moving either back', async () => {
    const t = uniqueName('t');
    const at = (s: string) => new Date(`2026-11-30T${s}Z`);
    const start = (run: string, syncFetchedAt: Date, syncFetchSequence?: number) =>
      store.nextChangesetNumber(t, fence(t), {
        changesetId: `${t}|${run}`,
        syncFetchedAt,
        ...(syncFetchSequence === undefined ? {} : { syncFetchSequence }),
      });
    // A run of the school applied before fetch sequences: no sequence recorded.
    await start('run-0', at('08:00:00'));
    expect(await store.changesetOrder(t)).toEqual({
      applying: `${t}|run-0`,
      lastSyncFetchedAt: at('08:00:00'),
    });
    // Its replica's clock ahead: the newer run's time is earlier, its sequence higher.
    await start('run-1', at('09:00:30'), 7);
    await start('run-2', at('09:00:10'), 8);
    expect(await store.changesetOrder(t)).toEqual({
      applying: `${t}|run-2`,
      lastSyncFetchedAt: at('09:00:30'),
      lastSyncFetchSequence: 8,
    });
    // An older run (and one without a sequence) starting later move neither back.
    await start('run-old', at('10:00:00'), 3);
    await start('run-legacy', at('07:00:00'));
    expect(await store.changesetOrder(t)).toEqual({
      applying: `${t}|run-legacy`,
      lastSyncFetchedAt: at('10:00:00'),
      lastSyncFetchSequence: 8,
    });
  });
});
