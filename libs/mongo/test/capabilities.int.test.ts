import { isAppError } from '@isams-sync/errors';
import { MongoClient } from 'mongodb';
import type { Document } from 'mongodb';
import { describe, expect, it } from 'vitest';
import {
  acquireLease,
  connectMongo,
  detectServerBackend,
  ensureIndexes,
  insertIfAbsent,
  MongoErrors,
  portableAggregate,
  tenantCollection,
  toMongoError,
} from '../src/index';
import type { LeaseDocument, ServerBackend } from '../src/index';
import {
  onSeparateConnections,
  silentLogger,
  uniqueDbName,
  useFreshDatabase,
} from './support/fresh-database';

// One client for the whole file (these hooks apply to every describe below); each test gets a fresh
// database on it, dropped afterwards. The unreachable-database tests simply leave theirs unused.
const ctx = useFreshDatabase();
// Loosely typed: these tests use numeric and string ids freely.
const collection = (name: string) => ctx.db().collection<{ _id: string | number } & Document>(name);

async function caught(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
}

/**
 * MongoDB-wire capabilities we rely on: every database operation the helpers and the services use,
 * against the real MongoDB-wire server (FerretDB 1.24 in CI, MongoDB 7 in production), in the four
 * describes below. A gap in the backend shows up here first.
 */
describe('MongoDB-wire capabilities we rely on (integration): queries, cursors and aggregation', () => {
  it('insert + find with sort, skip, limit and inclusion/exclusion projections', async () => {
    const coll = collection('people');
    await coll.insertMany(
      Array.from({ length: 30 }, (_, i) => ({
        _id: i,
        n: i % 3,
        name: `p${i}`,
        nested: { form: `F${i % 5}`, house: 'Red' },
      })),
    );
    const page = await coll
      .find({ n: 1 }, { projection: { name: 1, 'nested.form': 1 } })
      .sort({ _id: -1 })
      .skip(2)
      .limit(3)
      .toArray();
    expect(page).toEqual([
      { _id: 22, name: 'p22', nested: { form: 'F2' } },
      { _id: 19, name: 'p19', nested: { form: 'F4' } },
      { _id: 16, name: 'p16', nested: { form: 'F1' } },
    ]);
    expect(await coll.findOne({ _id: 3 }, { projection: { nested: 0, _id: 0 } })).toEqual({
      n: 0,
      name: 'p3',
    });
    expect(
      await coll
        .find({}, { projection: { _id: 1 } })
        .sort({ n: 1, _id: -1 })
        .limit(2)
        .toArray(),
    ).toEqual([{ _id: 27 }, { _id: 24 }]);
  });

  it('countDocuments, distinct, dotted paths into nested documents and $in with a large array', async () => {
    const coll = collection('people');
    await coll.insertMany(
      Array.from({ length: 100 }, (_, i) => ({ _id: i, nested: { form: `F${i % 4}` }, tags: [`t${i % 2}`] })),
    );
    expect(await coll.countDocuments({ 'nested.form': 'F1' })).toBe(25);
    expect(await coll.countDocuments({ tags: 't0', 'nested.form': { $in: ['F0', 'F2'] } })).toBe(50);
    expect((await coll.distinct('nested.form')).sort()).toEqual(['F0', 'F1', 'F2', 'F3']);
    expect(await coll.distinct('nested.form', { _id: { $lt: 2 } })).toHaveLength(2);
    const ids = Array.from({ length: 5_000 }, (_, i) => i * 3);
    expect(await coll.countDocuments({ _id: { $in: ids } })).toBe(34);
  });

  it('$match / $group / $sum aggregation with $sort, one accumulator per $group', async () => {
    const coll = ctx.db().collection('bookings');
    await coll.insertMany([
      { school: 'a', status: 'open', seats: 2 },
      { school: 'a', status: 'open', seats: 3 },
      { school: 'b', status: 'open', seats: 1 },
      { school: 'b', status: 'cancelled', seats: 7 },
      { school: 'c', status: 'open', seats: 4 },
    ]);
    const seats = await portableAggregate(coll, [
      { $match: { status: 'open' } },
      { $group: { _id: '$school', seats: { $sum: '$seats' } } },
      { $sort: { seats: -1, _id: 1 } },
    ]);
    expect(seats).toEqual([
      { _id: 'a', seats: 5 },
      { _id: 'c', seats: 4 },
      { _id: 'b', seats: 1 },
    ]);
    const counts = await portableAggregate(coll, [
      { $group: { _id: '$status', n: { $sum: 1 } } },
      { $sort: { _id: 1 } },
    ]);
    expect(counts).toEqual([
      { _id: 'cancelled', n: 1 },
      { _id: 'open', n: 4 },
    ]);
    const total = await portableAggregate(coll, [{ $group: { _id: null, n: { $count: {} } } }]);
    expect(total).toEqual([{ _id: null, n: 5 }]);
  });

  it('a cursor iterates 10 000 documents in batches, in sort order', async () => {
    const coll = collection('many');
    for (let start = 0; start < 10_000; start += 2_000) {
      await coll.insertMany(
        Array.from({ length: 2_000 }, (_, i) => ({ _id: start + i, k: `k${start + i}` })),
      );
    }
    let expected = 0;
    for await (const doc of coll.find({}).sort({ _id: 1 }).batchSize(1_000)) {
      expect(doc._id).toBe(expected);
      expected += 1;
    }
    expect(expected).toBe(10_000);
  });
});

describe('MongoDB-wire capabilities we rely on (integration): updates, upserts and bulk writes', () => {
  it('updateOne / updateMany with $set $unset $inc $setOnInsert $max $push $pull $addToSet', async () => {
    interface Doc {
      _id: string;
      n: number;
      gone?: boolean;
      tags?: string[];
      hi?: number;
      seen?: Date;
      meta?: { by: string };
      createdAt?: Date;
    }
    const coll = ctx.db().collection<Doc>('docs');
    await coll.insertMany([
      { _id: 'a', n: 1, gone: true, tags: ['x'], hi: 5, seen: new Date('2025-01-02T00:00:00Z') },
      { _id: 'b', n: 1, tags: [] },
    ]);
    await coll.updateOne(
      { _id: 'a' },
      { $set: { 'meta.by': 'sync' }, $unset: { gone: '' }, $inc: { n: 2 }, $push: { tags: 'y' } },
    );
    await coll.updateOne(
      { _id: 'a' },
      { $addToSet: { tags: 'x' }, $max: { hi: 3, seen: new Date('2025-01-01T00:00:00Z') } },
    );
    await coll.updateOne({ _id: 'a' }, { $addToSet: { tags: 'z' }, $max: { hi: 9 } });
    await coll.updateOne({ _id: 'a' }, { $pull: { tags: 'y' } });
    expect(await coll.findOne({ _id: 'a' })).toEqual({
      _id: 'a',
      n: 3,
      tags: ['x', 'z'],
      hi: 9,
      seen: new Date('2025-01-02T00:00:00Z'),
      meta: { by: 'sync' },
    });

    const many = await coll.updateMany({}, { $inc: { n: 10 } });
    expect(many).toMatchObject({ matchedCount: 2, modifiedCount: 2 });
    const noop = await coll.updateOne({ _id: 'b' }, { $set: { n: 11 } });
    expect(noop).toMatchObject({ matchedCount: 1, modifiedCount: 0 });

    const up = await coll.updateOne(
      { _id: 'c' },
      { $setOnInsert: { createdAt: new Date(0) }, $set: { n: 1 } },
      { upsert: true },
    );
    expect(up).toMatchObject({ upsertedCount: 1, upsertedId: 'c' });
    await coll.updateOne(
      { _id: 'c' },
      { $setOnInsert: { createdAt: new Date(1) }, $set: { n: 2 } },
      { upsert: true },
    );
    expect(await coll.findOne({ _id: 'c' })).toEqual({ _id: 'c', createdAt: new Date(0), n: 2 });
  });

  it('findOneAndUpdate upsert with returnDocument after, and replaceOne upsert', async () => {
    const coll = collection('docs');
    const created = await coll.findOneAndUpdate(
      { _id: 'k' },
      { $setOnInsert: { first: 1 }, $set: { v: 'a' }, $inc: { count: 1 } },
      { upsert: true, returnDocument: 'after' },
    );
    expect(created).toEqual({ _id: 'k', first: 1, v: 'a', count: 1 });
    const again = await coll.findOneAndUpdate(
      { _id: 'k' },
      { $setOnInsert: { first: 2 }, $inc: { count: 1 } },
      { upsert: true, returnDocument: 'after' },
    );
    expect(again).toEqual({ _id: 'k', first: 1, v: 'a', count: 2 });
    expect(
      await coll.findOneAndUpdate({ _id: 'missing' }, { $set: { v: 1 } }, { returnDocument: 'after' }),
    ).toBeNull();

    expect(await coll.replaceOne({ _id: 'r' }, { v: 1 }, { upsert: true })).toMatchObject({
      upsertedCount: 1,
      upsertedId: 'r',
    });
    expect(await coll.replaceOne({ _id: 'r' }, { w: 2 }, { upsert: true })).toMatchObject({
      matchedCount: 1,
      upsertedCount: 0,
    });
    expect(await coll.findOne({ _id: 'r' })).toEqual({ _id: 'r', w: 2 });
  });

  it('bulkWrite mixed, ordered: false, and deleteMany', async () => {
    const coll = collection('docs');
    await coll.insertMany([
      { _id: 1, v: 1 },
      { _id: 2, v: 2 },
      { _id: 3, v: 3 },
    ]);
    const result = await coll.bulkWrite(
      [
        { insertOne: { document: { _id: 4, v: 4 } } },
        { updateOne: { filter: { _id: 1 }, update: { $set: { v: 10 } } } },
        { updateOne: { filter: { _id: 5 }, update: { $set: { v: 5 } }, upsert: true } },
        { replaceOne: { filter: { _id: 2 }, replacement: { v: 20 } } },
        { deleteOne: { filter: { _id: 3 } } },
        { updateMany: { filter: { v: { $gte: 10 } }, update: { $set: { big: true } } } },
      ],
      { ordered: false },
    );
    expect(result).toMatchObject({
      insertedCount: 1,
      upsertedCount: 1,
      deletedCount: 1,
      matchedCount: 4,
      modifiedCount: 4,
    });
    expect(await coll.countDocuments({ big: true })).toBe(2);
    expect((await coll.deleteMany({ v: { $lt: 10 } })).deletedCount).toBe(2);
    expect(await coll.countDocuments()).toBe(2);
  });
});

describe('MongoDB-wire capabilities we rely on (integration): indexes, uniqueness, concurrent claims and transactions', () => {
  it('a unique compound index violation maps to MONGO_DUPLICATE_KEY — for inserts, upserts and updates', async () => {
    await ensureIndexes(ctx.db(), [
      {
        collection: 'people',
        indexes: [{ key: { tenantId: 1, personId: 1 }, unique: true, name: 'tenant_person_uq' }],
      },
    ]);
    const coll = ctx.db().collection('people');
    await coll.insertMany([
      { tenantId: 't', personId: 'a' },
      { tenantId: 't', personId: 'b' },
      { tenantId: 'u', personId: 'a' },
    ]);

    const insert = toMongoError(await caught(coll.insertOne({ tenantId: 't', personId: 'a' })));
    expect(insert).toMatchObject({ code: 'MONGO_DUPLICATE_KEY', kind: 'already_exists' });
    const upsert = toMongoError(
      await caught(
        coll.updateOne({ tenantId: 't', personId: 'a', x: 1 }, { $set: { y: 1 } }, { upsert: true }),
      ),
    );
    expect(upsert.code).toBe('MONGO_DUPLICATE_KEY');
    // FerretDB reports this one as InternalError (code 1) with SQLite's message; we map it too.
    const update = toMongoError(await caught(coll.updateOne({ personId: 'b' }, { $set: { personId: 'a' } })));
    expect(update.code).toBe('MONGO_DUPLICATE_KEY');
    const bulk = toMongoError(
      await caught(
        coll.bulkWrite(
          [
            { insertOne: { document: { tenantId: 't', personId: 'c' } } },
            { insertOne: { document: { tenantId: 'u', personId: 'a' } } },
          ],
          { ordered: false },
        ),
      ),
    );
    expect(bulk.code).toBe('MONGO_DUPLICATE_KEY');
    expect(await coll.countDocuments({ personId: 'c' })).toBe(1);
    // The message never carries the duplicate values (MongoDB's E11000 text does).
    expect(update.message).not.toContain('"a"');
  });

  it('concurrent lease claims from separate connections: exactly one wins', async () => {
    await onSeparateConnections<LeaseDocument, void>(ctx, 'leases', 2, async (colls) => {
      for (let round = 0; round < 10; round++) {
        const results = await Promise.all(
          colls.map((c, i) => acquireLease(c, { key: `k${round}`, owner: `o${i}`, ttlMs: 60_000 })),
        );
        expect(results.filter((r) => r !== null)).toHaveLength(1);
      }
    });
  });

  it('lists indexes with their names, keys and uniqueness', async () => {
    await ensureIndexes(ctx.db(), [
      {
        collection: 'people',
        indexes: [{ key: { tenantId: 1, 'nested.form': -1 }, unique: true, name: 'tenant_form_uq' }],
      },
    ]);
    const indexes = await collection('people').listIndexes().toArray();
    expect(indexes.map(({ name, key, unique }) => ({ name, key, unique }))).toEqual([
      { name: '_id_', key: { _id: 1 }, unique: undefined },
      { name: 'tenant_form_uq', key: { tenantId: 1, 'nested.form': -1 }, unique: true },
    ]);
  });

  it('multi-document transactions are NOT available on this backend (we never rely on them)', async () => {
    const coll = collection('docs');
    await ctx.db().createCollection('docs');
    const session = ctx.client().startSession();
    try {
      session.startTransaction();
      const err = await caught(
        coll.insertOne({ _id: 'tx' }, { session }).then(() => session.commitTransaction()),
      );
      expect(MongoErrors.MONGO_UNSUPPORTED.is(toMongoError(err))).toBe(true);
    } finally {
      await session.endSession().catch(() => undefined);
    }
    expect(await coll.countDocuments({ _id: 'tx' })).toBe(0);
  });
});

describe('MongoDB-wire capabilities we rely on (integration): what a document can hold', () => {
  it('Dates, nested documents, arrays of documents, nulls and numbers round-trip unchanged', async () => {
    const coll = collection('docs');
    const doc = {
      _id: 'rt',
      at: new Date('2024-02-29T23:59:59.123Z'),
      epoch: new Date(0),
      nested: { deep: { deeper: { s: 'é', n: -1.5, i: 42, big: 2 ** 40, flag: false, nothing: null } } },
      people: [
        { id: 'p1', at: new Date('2020-01-01T00:00:00Z') },
        { id: 'p2', tags: ['a', 'b'] },
      ],
      empty: {},
      emptyList: [],
    };
    await coll.insertOne(doc);
    expect(await coll.findOne({ _id: 'rt' })).toEqual(doc);
    expect(
      await coll.countDocuments({
        at: { $gte: new Date('2024-02-29T00:00:00Z'), $lt: new Date('2024-03-01T00:00:00Z') },
      }),
    ).toBe(1);
    expect(await coll.countDocuments({ 'people.id': 'p2' })).toBe(1);
  });

  it('documents near the 16 MiB limit are written and read back', async () => {
    const coll = collection('large');
    const s = 'x'.repeat(16 * 1024 * 1024 - 1024);
    await coll.insertOne({ _id: 'big', s });
    expect((await coll.findOne({ _id: 'big' }))?.s).toHaveLength(s.length);
  });
});

/**
 * Which filters the database evaluates itself (FerretDB's `filterPushdown`) and which it leaves to
 * FerretDB's Go code, which reads and decodes every document of the collection. The shapes are the
 * services' hot paths: every tenant-scoped query carries `tenantId` (tenantCollection), lookups by
 * `_id` add it too. SQLite pushes down only a lone string/ObjectId `_id`; PostgreSQL pushes down
 * every top-level scalar equality (ANDed), so a partly pushed-down filter still narrows the scan.
 * Real MongoDB has no such flag (it plans with indexes).
 */
describe('filter push-down for the hot-path query shapes (integration)', () => {
  const pushed = (backend: ServerBackend, onPostgres: boolean, onSqlite: boolean) =>
    backend === 'ferretdb-postgresql' ? onPostgres : backend === 'ferretdb-sqlite' ? onSqlite : undefined;

  it('names the backend it runs on', async () => {
    expect(['mongodb', 'ferretdb-sqlite', 'ferretdb-postgresql']).toContain(
      await detectServerBackend(ctx.client()),
    );
  });

  it('find: which top-level conditions the backend evaluates', async () => {
    const backend = await detectServerBackend(ctx.client());
    const coll = ctx.db().collection<{ _id: string } & Document>('bookings');
    await coll.insertMany([
      { _id: 't1:b1', tenantId: 't1', slotId: 's1', status: 'booked', id: 'b1', trigger: { kind: 'manual' } },
      { _id: 't2:b1', tenantId: 't2', slotId: 's1', status: 'booked', id: 'b1', trigger: { kind: 'manual' } },
    ]);
    const cases: Array<[string, Document, boolean | undefined]> = [
      ['_id alone', { _id: 't1:b1' }, pushed(backend, true, true)],
      [
        '_id + tenantId (tenantCollection.findOne by id)',
        { _id: 't1:b1', tenantId: 't1' },
        pushed(backend, true, false),
      ],
      [
        'scalar equalities (bookings by slot)',
        { slotId: 's1', status: 'booked', tenantId: 't1' },
        pushed(backend, true, false),
      ],
      [
        '$eq and $ne on scalars',
        { status: { $eq: 'booked' }, id: { $ne: 'b2' }, tenantId: 't1' },
        pushed(backend, true, false),
      ],
      [
        '$in + tenantId: tenantId pushed, $in in Go',
        { id: { $in: ['b1', 'b2'] }, tenantId: 't1' },
        pushed(backend, true, false),
      ],
      [
        'dotted key + range + tenantId: tenantId pushed',
        { tenantId: 't1', 'trigger.kind': 'manual', n: { $gte: 1 } },
        pushed(backend, true, false),
      ],
      ['a range alone stays in Go', { n: { $gte: 1 } }, pushed(backend, false, false)],
      ['a dotted key alone stays in Go', { 'trigger.kind': 'manual' }, pushed(backend, false, false)],
    ];
    const seen = [];
    for (const [shape, filter] of cases) {
      const plan = (await coll.find(filter).explain()) as Document;
      seen.push([shape, plan.filterPushdown as boolean | undefined]);
      if (backend === 'mongodb') expect((plan.queryPlanner as Document).winningPlan).toBeDefined();
    }
    expect(seen).toEqual(cases.map(([shape, , expected]) => [shape, expected]));
    // Push-down never changes the answer: the tenant condition still separates the schools.
    expect(await coll.find({ _id: 't1:b1', tenantId: 't2' }).toArray()).toEqual([]);
    expect(await coll.countDocuments({ slotId: 's1', status: 'booked', tenantId: 't2' })).toBe(1);
  });

  it('a pushed-down equality on `_id` or on a declared index key is answered by an index (PostgreSQL: its GIN twins)', async () => {
    const backend = await detectServerBackend(ctx.client());
    const coll = ctx.db().collection<{ _id: string } & Document>('entities');
    await coll.createIndex({ tenantId: 1, entityType: 1, entityId: 1 }, { name: 'tenant_type_id' });
    const docs = Array.from({ length: 3000 }, (_, i) => ({
      _id: `t${i % 3}|student|${i}`,
      tenantId: `t${i % 3}`,
      entityType: i % 2 === 0 ? 'student' : 'staff',
      entityId: String(i),
      data: { forename: `name ${i}` },
    }));
    for (let i = 0; i < docs.length; i += 50)
      await coll.insertMany(docs.slice(i, i + 50), { ordered: false });
    const uses = async (filter: Document): Promise<string> => {
      const plan = (await coll.find(filter).explain()) as Document;
      if (backend === 'mongodb')
        return JSON.stringify(plan.queryPlanner).match(/IXSCAN|IDHACK|EXPRESS_IXSCAN/) ? 'index' : 'scan';
      // FerretDB returns PostgreSQL's plan: a node type names an index scan when one is used.
      return JSON.stringify((plan.queryPlanner as Document).Plan).includes('Index Scan') ? 'index' : 'scan';
    };
    const shapes = {
      'by _id': { _id: 't1|student|1000' },
      'by _id + tenantId': { _id: 't1|student|1000', tenantId: 't1' },
      'by tenant, type and entity id': { tenantId: 't1', entityType: 'student', entityId: '1000' },
    };
    const seen: Record<string, string> = {};
    for (const [shape, filter] of Object.entries(shapes)) seen[shape] = await uses(filter);
    // SQLite: FerretDB's `_id` index is on another expression than its query, and nothing else is pushed down.
    const expected = backend === 'ferretdb-sqlite' ? 'scan' : 'index';
    expect(seen).toEqual(Object.fromEntries(Object.keys(shapes).map((k) => [k, expected])));
    expect(await coll.findOne({ tenantId: 't1', entityType: 'student', entityId: '1000' })).toMatchObject({
      _id: 't1|student|1000',
    });
  });

  it('aggregate: a leading $match on tenantId (countDocuments, tenantCollection.aggregate)', async () => {
    const backend = await detectServerBackend(ctx.client());
    const coll = ctx.db().collection<Document>('runs');
    await coll.insertOne({ tenantId: 't1', status: 'applied' });
    const plan = await ctx.db().command({
      explain: {
        aggregate: 'runs',
        pipeline: [{ $match: { tenantId: 't1' } }, { $group: { _id: null, n: { $sum: 1 } } }],
        cursor: {},
      },
    });
    expect(plan.filterPushdown).toBe(pushed(backend, true, false));
  });
});

describe('an unreachable database', () => {
  it(
    'connectMongo fails with MONGO_UNAVAILABLE within the server-selection timeout instead of hanging',
    { timeout: 15_000 },
    async () => {
      const err = await connectMongo({
        url: 'mongodb://127.0.0.1:1/?directConnection=true',
        dbName: uniqueDbName(),
        logger: silentLogger(),
        appName: 'mongo-lib-test',
        serverSelectionTimeoutMs: 1_000,
      }).catch((e: unknown) => e);
      expect(isAppError(err) && err.code).toBe('MONGO_UNAVAILABLE');
      expect(isAppError(err) && err.kind).toBe('unavailable');
    },
  );

  it(
    'the helpers fail with MONGO_UNAVAILABLE when the server cannot be reached',
    { timeout: 20_000 },
    async () => {
      const client = new MongoClient('mongodb://127.0.0.1:1/?directConnection=true', {
        serverSelectionTimeoutMS: 1_000,
      });
      try {
        const db = client.db(uniqueDbName());
        const attempts = [
          insertIfAbsent(db.collection('events'), { _id: 'e1' }),
          tenantCollection(db, 'pupils', 't1').find({}),
          ensureIndexes(db, [{ collection: 'c', indexes: [{ key: { a: 1 }, name: 'a' }] }]),
          client
            .db('x')
            .collection('y')
            .findOne({})
            .catch((e: unknown) => Promise.reject(toMongoError(e))),
        ];
        const results = await Promise.allSettled(attempts);
        expect(
          results.map((r) => (r.status === 'rejected' && isAppError(r.reason) ? r.reason.code : r.status)),
        ).toEqual(['MONGO_UNAVAILABLE', 'MONGO_UNAVAILABLE', 'MONGO_UNAVAILABLE', 'MONGO_UNAVAILABLE']);
      } finally {
        await client.close();
      }
    },
  );
});
