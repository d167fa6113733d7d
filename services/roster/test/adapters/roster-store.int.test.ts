import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '@isams-sync/errors';
import { createTestDatabase, uniqueName } from '@isams-sync/testing';
import type { TestDatabase } from '@isams-sync/testing';
import { bucketOf, ids } from '../../src/adapters/mongo/documents';
import type { EntityBucketDoc, EntityRecord } from '../../src/adapters/mongo/documents';
import { COLLECTIONS, RosterStore } from '../../src/adapters/mongo/roster-store';

let db: TestDatabase;
let store: RosterStore;

beforeAll(async () => {
  db = await createTestDatabase('roster_store');
  store = new RosterStore(db.db);
  await store.init();
});
afterAll(async () => db?.drop());

const record = (entityId: string): EntityRecord => ({
  entityType: 'pupil',
  entityId,
  status: 'active',
  data: { id: entityId, surname: `S${entityId}` } as never,
  lastChangeId: 'run#0',
  lastSyncRunId: 'run',
  changedAt: '2026-11-01T09:00:00.000Z',
  removedAt: null,
  graceUntil: null,
  removal: null,
  purged: false,
  purgedAt: null,
});
const bucket = (tenantId: string, n: number, entityIds: string[]): EntityBucketDoc => ({
  _id: ids.bucket(tenantId, 'pupil', n),
  tenantId,
  entityType: 'pupil',
  bucket: n,
  entities: entityIds.map(record),
});

describe('RosterStore (integration)', () => {
  it('stores buckets packed and reads back exactly the tenant’s own, by id', async () => {
    const mine = uniqueName('t');
    const other = uniqueName('t');
    const inBuckets = (tenantId: string, entityIds: string[]) => {
      const by = new Map<number, string[]>();
      for (const id of entityIds) by.set(bucketOf(id), [...(by.get(bucketOf(id)) ?? []), id]);
      return [...by].map(([n, list]) => bucket(tenantId, n, list));
    };
    const [first, ...rest] = inBuckets(mine, ['1', '2', '3', '4', '5']);
    await store.insertPacked(COLLECTIONS.entityBuckets, [...rest, ...inBuckets(other, ['9'])]);
    await store.putBucket(first!);
    const raw = await db.db.collection(COLLECTIONS.entityBuckets).findOne({ _id: first!._id as never });
    expect(raw).not.toHaveProperty('entities');
    expect(raw?.packed).toBeDefined();
    const loaded = await store.loadBuckets(mine);
    expect(loaded.flatMap((b) => b.entities.map((e) => e.entityId)).sort()).toEqual([
      '1',
      '2',
      '3',
      '4',
      '5',
    ]);
    expect(loaded.every((b) => b.tenantId === mine)).toBe(true);
    expect(await store.entity(mine, 'pupil', '4')).toEqual(record('4'));
    expect(await store.entity(mine, 'pupil', '9')).toBeNull();
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
