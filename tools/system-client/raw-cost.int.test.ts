import { getTestInfra, uniqueName } from '@isams-sync/testing';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { bareWriteDocuments, readDocuments } from './raw-cost';

describe('bare writes of given documents (real database)', () => {
  const { mongoUrl } = getTestInfra();
  const dbName = uniqueName('rawcost');
  const indexes = [{ key: { tenantId: 1, entityId: 1 } as const, unique: true }];
  const doc = (id: string) => ({ _id: id, tenantId: 't', entityId: id, image: { name: id, tags: ['a'] } });

  afterAll(async () => {
    const client = await MongoClient.connect(mongoUrl);
    await client.db(dbName).dropDatabase();
    await client.close();
  });

  it('reads a collection back by filter', async () => {
    const client = await MongoClient.connect(mongoUrl);
    await client
      .db(dbName)
      .collection<ReturnType<typeof doc>>('entities')
      .insertMany([doc('a'), { ...doc('b'), tenantId: 'u' }]);
    await client.close();
    expect((await readDocuments(mongoUrl, dbName, 'entities', { tenantId: 't' })).map((d) => d._id)).toEqual([
      'a',
    ]);
  });

  it('times inserts and replaces among stored documents, and fails on a replace of an id not stored', async () => {
    const stored = ['s1', 's2', 's3'].map(doc);
    const written = await bareWriteDocuments(mongoUrl, {
      indexes,
      stored,
      inserted: [doc('n1'), doc('n2')],
      replaced: [
        { ...doc('s1'), changed: true },
        { ...doc('s3'), changed: true },
      ],
    });
    expect(written.seconds).toBeGreaterThan(0);
    // The machine's CPU meanwhile (Linux: /proc/stat): measured, not left out.
    expect(written.cpuSeconds).toBeGreaterThanOrEqual(0);
    // A replace that matches nothing writes nothing: the floor would leave its cost out.
    await expect(
      bareWriteDocuments(mongoUrl, { indexes, stored, replaced: [doc('s1'), doc('missing')] }),
    ).rejects.toThrow('1 of 2 ids not stored');
    // An insert that collides with a stored document (the index) is a failure too, not a skipped write.
    await expect(bareWriteDocuments(mongoUrl, { indexes, stored, inserted: [doc('s2')] })).rejects.toThrow();
  });
});
