import { isAppError } from '@isams-sync/errors';
import { describe, expect, it } from 'vitest';
import {
  bulkUpsert,
  compareAndSet,
  ensureIndexes,
  insertIfAbsent,
  packJson,
  sweepExpired,
  unpackJson,
  upsertById,
} from '../src/index';
import { onSeparateConnections, useFreshDatabase } from './support/fresh-database';

interface Person {
  _id?: unknown;
  tenantId: string;
  personId: string;
  name: string;
  nested?: { form: string };
}

const PEOPLE_INDEXES = [
  {
    collection: 'people',
    indexes: [
      { key: { tenantId: 1 as const, personId: 1 as const }, unique: true, name: 'tenant_person_uq' },
    ],
  },
];

// One client for every describe in the file (module-level hooks); each test gets a fresh database.
const ctx = useFreshDatabase();

describe('write helpers (integration): upsertById and bulkUpsert', () => {
  it('upsertById inserts, then replaces the whole document', async () => {
    const coll = ctx.db().collection<{ _id: string; a?: number; b?: number }>('docs');
    expect(await upsertById(coll, 'x', { a: 1, b: 2 })).toEqual({ inserted: true });
    expect(await upsertById(coll, 'x', { a: 3 })).toEqual({ inserted: false });
    expect(await coll.findOne({ _id: 'x' })).toEqual({ _id: 'x', a: 3 });
  });

  it('bulkUpsert counts inserted / modified / unchanged across batches and keeps other fields in set mode', async () => {
    await ensureIndexes(ctx.db(), PEOPLE_INDEXES);
    const coll = ctx.db().collection<Person>('people');
    const docs = Array.from({ length: 25 }, (_, i) => ({
      tenantId: 't1',
      personId: `p${i}`,
      name: `n${i}`,
      nested: { form: '7A' },
    }));
    expect(await bulkUpsert(coll, docs, { keyFields: ['tenantId', 'personId'], batchSize: 10 })).toEqual({
      inserted: 25,
      modified: 0,
      unchanged: 0,
      retriedBatches: 0,
    });
    await coll.updateOne({ personId: 'p0' }, { $set: { extra: true } as never });
    const changed = docs.map((d, i) => (i < 5 ? { ...d, name: `renamed${i}` } : d));
    expect(
      await bulkUpsert(coll, [...changed, { tenantId: 't1', personId: 'new', name: 'new' }], {
        keyFields: ['tenantId', 'personId'],
        batchSize: 10,
      }),
    ).toEqual({
      inserted: 1,
      modified: 5,
      unchanged: 20,
      retriedBatches: 0,
    });
    expect(await coll.countDocuments()).toBe(26);
    const p0 = await coll.findOne({ personId: 'p0' }, { projection: { _id: 0 } });
    expect(p0).toEqual({
      tenantId: 't1',
      personId: 'p0',
      name: 'renamed0',
      nested: { form: '7A' },
      extra: true,
    });
  });

  it('bulkUpsert in replace mode removes fields that are not given', async () => {
    await ensureIndexes(ctx.db(), PEOPLE_INDEXES);
    const coll = ctx.db().collection<Person>('people');
    await bulkUpsert(coll, [{ tenantId: 't1', personId: 'p', name: 'a', nested: { form: '8B' } }], {
      keyFields: ['tenantId', 'personId'],
      mode: 'replace',
    });
    const r = await bulkUpsert(coll, [{ tenantId: 't1', personId: 'p', name: 'b' }], {
      keyFields: ['tenantId', 'personId'],
      mode: 'replace',
    });
    expect(r.modified).toBe(1);
    expect(await coll.findOne({ personId: 'p' }, { projection: { _id: 0 } })).toEqual({
      tenantId: 't1',
      personId: 'p',
      name: 'b',
    });
  });

  it('bulkUpsert from two clients racing on the same keys ends with one document per key', async () => {
    await ensureIndexes(ctx.db(), PEOPLE_INDEXES);
    await onSeparateConnections<Person, void>(ctx, 'people', 2, async ([mine, theirs]) => {
      const docs = Array.from({ length: 200 }, (_, i) => ({
        tenantId: 't1',
        personId: `p${i}`,
        name: `n${i}`,
      }));
      const results = await Promise.all([
        bulkUpsert(mine, docs, { keyFields: ['tenantId', 'personId'], batchSize: 50 }),
        bulkUpsert(theirs, docs, { keyFields: ['tenantId', 'personId'], batchSize: 50 }),
      ]);
      expect(await mine.countDocuments()).toBe(200);
      for (const r of results) expect(r.inserted + r.modified + r.unchanged).toBe(200);
    });
  });

  it('bulkUpsert refuses a document without its key fields and one FerretDB cannot store', async () => {
    const coll = ctx.db().collection<Person>('people');
    await expect(
      bulkUpsert(coll, [{ tenantId: 't1', name: 'x' } as Person], { keyFields: ['tenantId', 'personId'] }),
    ).rejects.toMatchObject({
      code: 'MONGO_INVALID_DOCUMENT',
    });
    await expect(
      bulkUpsert(coll, [{ tenantId: 't1', personId: 'p', name: 'x', nested: { 'a.b': 1 } as never }], {
        keyFields: ['tenantId', 'personId'],
      }),
    ).rejects.toMatchObject({ code: 'MONGO_INVALID_DOCUMENT', details: { path: 'nested.a.b' } });
    expect(await coll.countDocuments()).toBe(0);
  });

  it('bulkUpsert throws MONGO_DUPLICATE_KEY when a document collides on another unique index', async () => {
    await ensureIndexes(ctx.db(), [
      ...PEOPLE_INDEXES,
      {
        collection: 'people',
        indexes: [{ key: { tenantId: 1 as const, name: 1 as const }, unique: true, name: 'tenant_name_uq' }],
      },
    ]);
    const coll = ctx.db().collection<Person>('people');
    await coll.insertOne({ tenantId: 't1', personId: 'a', name: 'same' });
    const err: unknown = await bulkUpsert(coll, [{ tenantId: 't1', personId: 'b', name: 'same' }], {
      keyFields: ['tenantId', 'personId'],
    }).catch((e: unknown) => e);
    expect(isAppError(err) && err.code).toBe('MONGO_DUPLICATE_KEY');
    expect(isAppError(err) && err.kind).toBe('already_exists');
  });
});

describe('write helpers (integration): insertIfAbsent, compareAndSet and sweepExpired', () => {
  it('insertIfAbsent inserts once and then reports false', async () => {
    const coll = ctx.db().collection<{ _id: string; at: Date }>('processed_events');
    expect(await insertIfAbsent(coll, { _id: 'evt-1', at: new Date() })).toBe(true);
    expect(await insertIfAbsent(coll, { _id: 'evt-1', at: new Date() })).toBe(false);
    const concurrent = await Promise.all(
      Array.from({ length: 8 }, () => insertIfAbsent(coll, { _id: 'evt-2', at: new Date() })),
    );
    expect(concurrent.filter(Boolean)).toHaveLength(1);
    expect(await coll.countDocuments()).toBe(2);
  });

  it('compareAndSet applies only at the expected version and bumps it', async () => {
    const coll = ctx.db().collection<{ _id: string; version: number; state: string; n?: number }>('runs');
    await coll.insertOne({ _id: 'r1', version: 1, state: 'new' });
    const updated = await compareAndSet(coll, { _id: 'r1' }, 1, {
      $set: { state: 'running' },
      $inc: { n: 1 },
    });
    expect(updated).toEqual({ _id: 'r1', version: 2, state: 'running', n: 1 });
    expect(await compareAndSet(coll, { _id: 'r1' }, 1, { $set: { state: 'stale' } })).toBeNull();
    expect(await coll.findOne({ _id: 'r1' })).toMatchObject({ version: 2, state: 'running' });
    await expect(compareAndSet(coll, { _id: 'r1' }, 2, { $set: { version: 9 } })).rejects.toMatchObject({
      code: 'MONGO_INVALID_ARGUMENT',
    });
    // Concurrent compareAndSet is only isolated on MongoDB; FerretDB 1.24 lets concurrent
    // conditional updates of one document all succeed (see README), so only sequential use is tested.
    expect(await compareAndSet(coll, { _id: 'missing' }, 1, { $set: { state: 'x' } })).toBeNull();
  });

  it('sweepExpired deletes only documents older than the cut-off, in batches', async () => {
    const coll = ctx.db().collection<{ _id: number; expiresAt: Date }>('dedup');
    const base = Date.UTC(2024, 0, 1);
    await coll.insertMany(
      Array.from({ length: 250 }, (_, i) => ({ _id: i, expiresAt: new Date(base + i * 1000) })),
    );
    expect(await sweepExpired(coll, 'expiresAt', new Date(base + 200 * 1000), { batchSize: 64 })).toBe(200);
    expect(await coll.countDocuments()).toBe(50);
    expect(await sweepExpired(coll, 'expiresAt', new Date(base + 200 * 1000))).toBe(0);
  });
});

describe('write helpers (integration): packJson and unpackJson', () => {
  it('packJson stores a bulky value as one binary field that reads back equal and much smaller', async () => {
    const coll = ctx.db().collection<{ _id: string; tenantId: string; packed: unknown }>('packed');
    const records = Array.from({ length: 500 }, (_, i) => ({
      id: `p${i}`,
      names: { forename: `Name${i}`, surname: 'Surname' },
      sets: [`set-${i % 7}`, `set-${i % 11}`],
      active: i % 3 !== 0,
      note: null,
    }));
    const packed = packJson(records);
    expect(packed.length()).toBeLessThan(JSON.stringify(records).length / 4);
    await coll.insertOne({ _id: 't1|chunk', tenantId: 't1', packed });
    const back = await coll.findOne({ _id: 't1|chunk' });
    expect(unpackJson(back!.packed)).toEqual(records);
  });

  it('unpackJson refuses a field that is not a packed value, or a corrupt one, with MONGO_INVALID_DOCUMENT', () => {
    const codeOf = (fn: () => unknown) => {
      try {
        fn();
        return 'no error';
      } catch (err) {
        return isAppError(err) ? err.code : String(err);
      }
    };
    expect(codeOf(() => unpackJson([1, 2], 'entities'))).toBe('MONGO_INVALID_DOCUMENT');
    const corrupt = packJson({ a: 1 });
    corrupt.buffer[0] = 0xff;
    corrupt.buffer[1] = 0xff;
    expect(codeOf(() => unpackJson(corrupt))).toBe('MONGO_INVALID_DOCUMENT');
  });
});
