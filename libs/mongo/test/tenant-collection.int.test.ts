import { describe, expect, it } from 'vitest';
import { ensureIndexes, tenantCollection } from '../src/index';
import type { TenantDocument } from '../src/index';
import { useFreshDatabase } from './support/fresh-database';

interface Pupil extends TenantDocument {
  pupilId: string;
  name: string;
  form?: string;
}

// One client for every describe in the file (module-level hooks); each test gets a fresh database.
const ctx = useFreshDatabase();

async function seed() {
  await ensureIndexes(ctx.db(), [
    {
      collection: 'pupils',
      indexes: [{ key: { tenantId: 1, pupilId: 1 }, unique: true, name: 'tenant_pupil_uq' }],
    },
  ]);
  const a = tenantCollection<Pupil>(ctx.db(), 'pupils', 'school-a');
  const b = tenantCollection<Pupil>(ctx.db(), 'pupils', 'school-b');
  await a.insertMany([
    { pupilId: 'p1', name: 'Ann', form: '7A' },
    { pupilId: 'p2', name: 'Bob', form: '7B' },
  ]);
  await b.insertOne({ pupilId: 'p1', name: 'Other school pupil', form: '7A' });
  return { a, b };
}

describe('tenantCollection (integration): every read and write is scoped to the tenant', () => {
  it('stamps inserts with the tenant and never sees another tenant’s documents', async () => {
    const { a, b } = await seed();
    expect(await a.countDocuments()).toBe(2);
    expect(await b.countDocuments()).toBe(1);
    expect((await a.find({ pupilId: 'p1' })).map((p) => p.name)).toEqual(['Ann']);
    // An explicit tenantId in the filter cannot widen the scope.
    expect(await a.find({ tenantId: 'school-b' })).toHaveLength(2);
    expect(await a.findOne({ name: 'Other school pupil' })).toBeNull();
    expect(await a.distinct('name')).toEqual(expect.arrayContaining(['Ann', 'Bob']));
    expect(await a.distinct('name')).toHaveLength(2);
    const streamed: string[] = [];
    for await (const p of a.iterate({}, { sort: { pupilId: 1 } })) streamed.push(p.pupilId);
    expect(streamed).toEqual(['p1', 'p2']);
    expect(await a.aggregate([{ $group: { _id: '$form', n: { $sum: 1 } } }, { $sort: { _id: 1 } }])).toEqual([
      { _id: '7A', n: 1 },
      { _id: '7B', n: 1 },
    ]);
    expect(await ctx.db().collection('pupils').countDocuments({ tenantId: 'school-a' })).toBe(2);
  });

  it('updates and deletes only the tenant’s documents', async () => {
    const { a, b } = await seed();
    expect((await b.updateMany({}, { $set: { form: '8A' } })).modifiedCount).toBe(1);
    expect((await a.updateOne({ pupilId: 'p1' }, { $set: { name: 'Anna' } })).modifiedCount).toBe(1);
    expect(await b.findOne({ pupilId: 'p1' })).toMatchObject({ name: 'Other school pupil', form: '8A' });
    expect(
      await a.findOneAndUpdate(
        { pupilId: 'p9' },
        { $set: { name: 'New' } },
        { upsert: true, returnDocument: 'after' },
      ),
    ).toMatchObject({
      tenantId: 'school-a',
      pupilId: 'p9',
    });
    expect((await b.deleteMany({})).deletedCount).toBe(1);
    expect(await a.countDocuments()).toBe(3);
    expect((await a.deleteOne({ pupilId: 'p2' })).deletedCount).toBe(1);
  });

  it('refuses writes that would move a document to another tenant', async () => {
    const { a } = await seed();
    await expect(a.insertOne({ tenantId: 'school-b', pupilId: 'x', name: 'x' })).rejects.toMatchObject({
      code: 'MONGO_TENANT_MISMATCH',
    });
    await expect(a.updateOne({ pupilId: 'p1' }, { $set: { tenantId: 'school-b' } })).rejects.toMatchObject({
      code: 'MONGO_TENANT_MISMATCH',
    });
    await expect(a.updateMany({}, { $unset: { tenantId: '' } })).rejects.toMatchObject({
      code: 'MONGO_TENANT_MISMATCH',
    });
    await expect(a.updateMany({}, { $rename: { name: 'tenantId' } })).rejects.toMatchObject({
      code: 'MONGO_TENANT_MISMATCH',
    });
    expect(() => tenantCollection(ctx.db(), 'pupils', '')).toThrow(
      expect.objectContaining({ code: 'MONGO_INVALID_ARGUMENT' }),
    );
    expect(await ctx.db().collection('pupils').countDocuments({ tenantId: 'school-b' })).toBe(1);
  });
});

describe('tenantCollection (integration): batched writes (bulkUpsert, updateEach, insertAbsent)', () => {
  it('bulkUpsert keys on the tenant, so the same natural key in two tenants stays apart', async () => {
    const { a, b } = await seed();
    expect(
      await a.bulkUpsert(
        [
          { pupilId: 'p1', name: 'Ann' },
          { pupilId: 'p3', name: 'Cat' },
        ],
        { keyFields: ['pupilId'] },
      ),
    ).toMatchObject({
      inserted: 1,
      unchanged: 1,
    });
    expect(await b.findOne({ pupilId: 'p1' })).toMatchObject({ name: 'Other school pupil' });
    expect(await b.countDocuments()).toBe(1);
  });

  it('updateEach: several updates in one round trip, each scoped to the tenant (upserts stamped)', async () => {
    const { a, b } = await seed();
    expect(
      await a.updateEach([
        { filter: { pupilId: 'p1' }, update: { $set: { form: '9A' } } },
        { filter: { pupilId: 'p2' }, update: { $set: { form: '9B' } } },
        { filter: { pupilId: 'p7' }, update: { $set: { name: 'Gus' } }, upsert: true },
        // A filter naming another tenant is overridden: it reaches this tenant's p1, never school-b's.
        { filter: { pupilId: 'p1', tenantId: 'school-b' }, update: { $set: { name: 'Anna' } } },
      ]),
    ).toEqual({ matched: 3, modified: 3, upserted: 1 });
    expect(await b.findOne({ pupilId: 'p1' })).toMatchObject({ name: 'Other school pupil', form: '7A' });
    expect(await a.findOne({ pupilId: 'p1' })).toMatchObject({ name: 'Anna', form: '9A' });
    expect(await a.findOne({ pupilId: 'p7' })).toMatchObject({ tenantId: 'school-a', name: 'Gus' });
    expect((await a.find({}, { sort: { pupilId: 1 } })).map((p) => p.form)).toEqual(['9A', '9B', undefined]);
    await expect(
      a.updateEach([{ filter: { pupilId: 'p1' }, update: { $set: { tenantId: 'school-b' } } }]),
    ).rejects.toMatchObject({ code: 'MONGO_TENANT_MISMATCH' });
    expect(await a.updateEach([])).toEqual({ matched: 0, modified: 0, upserted: 0 });
  });

  it('updateEach: more statements than one command takes, by distinct _id (chunks in flight together) or not', async () => {
    const a = tenantCollection<Pupil & { _id: string; n?: number }>(ctx.db(), 'counted', 'school-a');
    const ids = Array.from({ length: 130 }, (_, i) => `school-a:p${i}`);
    expect(
      await a.updateEach(
        ids.map((_id, i) => ({
          filter: { _id },
          update: { $set: { pupilId: `p${i}`, name: `P${i}` } },
          upsert: true,
        })),
      ),
    ).toEqual({ matched: 0, modified: 0, upserted: 130 });
    expect(await a.updateEach(ids.map((_id) => ({ filter: { _id }, update: { $inc: { n: 1 } } })))).toEqual({
      matched: 130,
      modified: 130,
      upserted: 0,
    });
    // The same document named 60 times: every increment lands (the chunks run one after another).
    const same = Array.from({ length: 60 }, () => ({ filter: { _id: ids[0]! }, update: { $inc: { n: 1 } } }));
    expect(await a.updateEach(same)).toEqual({ matched: 60, modified: 60, upserted: 0 });
    expect((await a.findOne({ _id: ids[0]! }))?.n).toBe(61);
    expect((await a.find({ n: 1 })).length).toBe(129);
  });

  it('updateEach: a statement refused in one chunk fails the call once every chunk in flight has settled', async () => {
    await seed();
    const a = tenantCollection<Pupil & { _id: string; n?: number }>(ctx.db(), 'pupils', 'school-a');
    const ids = Array.from({ length: 60 }, (_, i) => `school-a:q${i}`);
    await a.insertMany(ids.map((_id, i) => ({ _id, pupilId: `q${i}`, name: `Q${i}` })));
    const ops = ids.map((_id) => ({ filter: { _id }, update: { $set: { n: 1 } } as object }));
    // Statement 30 (the second chunk of 20) takes pupil p1's unique key.
    ops[30] = { filter: { _id: ids[30]! }, update: { $set: { pupilId: 'p1' } } };
    await expect(a.updateEach(ops as never)).rejects.toMatchObject({ code: 'MONGO_DUPLICATE_KEY' });
    // The chunks sent beside it had landed when the call failed. (Within the refused statement's own
    // chunk, MongoDB applies the rest of an unordered command and FerretDB 1.24 stops at the refusal,
    // so those are not asserted: the callers' statements are idempotent and a retry applies them.)
    const landed = new Set((await a.find({ n: 1 })).map((d) => d._id));
    expect([...ids.slice(0, 20), ...ids.slice(40)].filter((id) => !landed.has(id))).toEqual([]);
    expect(await a.findOne({ _id: ids[30]! })).toMatchObject({ pupilId: 'q30' });
  });

  it('insertAbsent: inserts what is not stored yet, leaves what is, and says which were there', async () => {
    const { a, b } = await seed();
    expect(
      await a.insertAbsent([
        { pupilId: 'p3', name: 'Cat' },
        { pupilId: 'p1', name: 'Not Ann' },
        { pupilId: 'p4', name: 'Dan' },
        { pupilId: 'p2', name: 'Not Bob' },
      ]),
    ).toEqual([1, 3]);
    expect((await a.find({}, { sort: { pupilId: 1 } })).map((p) => p.name)).toEqual([
      'Ann',
      'Bob',
      'Cat',
      'Dan',
    ]);
    expect(await a.findOne({ pupilId: 'p4' })).toMatchObject({ tenantId: 'school-a' });
    expect(await b.countDocuments()).toBe(1);
    expect(await a.insertAbsent([])).toEqual([]);
    expect(await a.insertAbsent([{ pupilId: 'p5', name: 'Eve' }])).toEqual([]);
    await expect(a.insertAbsent([{ tenantId: 'school-b', pupilId: 'p6', name: 'x' }])).rejects.toMatchObject({
      code: 'MONGO_TENANT_MISMATCH',
    });
  });
});
