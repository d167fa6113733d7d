import { describe, expect, it } from 'vitest';
import { ensureIndexes } from '../src/index';
import type { CollectionIndexSpec, IndexSpec } from '../src/index';
import { useFreshDatabase } from './support/fresh-database';

const SPECS: CollectionIndexSpec[] = [
  {
    collection: 'people',
    indexes: [
      { key: { tenantId: 1, personId: 1 }, unique: true, name: 'tenant_person_uq' },
      { key: { tenantId: 1, updatedAt: -1 }, name: 'tenant_updated' },
    ],
  },
  { collection: 'processed_events', indexes: [{ key: { expiresAt: 1 }, name: 'expires_at' }] },
];

describe('ensureIndexes (integration)', () => {
  const ctx = useFreshDatabase();

  it('creates collections and named indexes, and is idempotent', async () => {
    expect(await ensureIndexes(ctx.db(), SPECS)).toEqual({
      createdCollections: ['people', 'processed_events'],
      createdIndexes: ['people.tenant_person_uq', 'people.tenant_updated', 'processed_events.expires_at'],
      existingIndexes: [],
    });
    expect(await ensureIndexes(ctx.db(), SPECS)).toEqual({
      createdCollections: [],
      createdIndexes: [],
      existingIndexes: ['people.tenant_person_uq', 'people.tenant_updated', 'processed_events.expires_at'],
    });
    const names = (await ctx.db().collection('people').listIndexes().toArray()).map((i) => i.name);
    expect(names.sort()).toEqual(['_id_', 'tenant_person_uq', 'tenant_updated']);
  });

  it('runs concurrently from several replicas without failing', async () => {
    const results = await Promise.allSettled([
      ensureIndexes(ctx.db(), SPECS),
      ensureIndexes(ctx.db(), SPECS),
      ensureIndexes(ctx.db(), SPECS),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    expect(await ctx.db().collection('people').listIndexes().toArray()).toHaveLength(3);
  });

  it('fails with MONGO_INDEX_CONFLICT when a name or key is already used by another definition', async () => {
    await ensureIndexes(ctx.db(), SPECS);
    const changedKey: CollectionIndexSpec = {
      collection: 'people',
      indexes: [{ key: { personId: 1 }, unique: true, name: 'tenant_person_uq' }],
    };
    await expect(ensureIndexes(ctx.db(), [changedKey])).rejects.toMatchObject({
      code: 'MONGO_INDEX_CONFLICT',
      details: { index: 'tenant_person_uq' },
    });
    const noLongerUnique: CollectionIndexSpec = {
      collection: 'people',
      indexes: [{ key: { tenantId: 1, personId: 1 }, name: 'tenant_person_uq' }],
    };
    await expect(ensureIndexes(ctx.db(), [noLongerUnique])).rejects.toMatchObject({
      code: 'MONGO_INDEX_CONFLICT',
    });
    const sameKeyNewName: CollectionIndexSpec = {
      collection: 'people',
      indexes: [{ key: { tenantId: 1, personId: 1 }, unique: true, name: 'renamed' }],
    };
    await expect(ensureIndexes(ctx.db(), [sameKeyNewName])).rejects.toMatchObject({
      code: 'MONGO_INDEX_CONFLICT',
      details: { index: 'renamed' },
    });
  });

  it.each([
    ['TTL', { key: { at: 1 }, name: 'ttl', expireAfterSeconds: 60 }],
    ['partial', { key: { at: 1 }, name: 'partial', partialFilterExpression: { at: { $exists: true } } }],
    ['sparse', { key: { at: 1 }, name: 'sparse', sparse: true }],
    ['collation', { key: { at: 1 }, name: 'coll', collation: { locale: 'en' } }],
    ['text', { key: { body: 'text' }, name: 'txt' }],
    ['2dsphere', { key: { loc: '2dsphere' }, name: 'geo' }],
    ['unnamed', { key: { at: 1 } }],
  ])('refuses a %s index with MONGO_UNSUPPORTED before creating anything', async (_label, index) => {
    const specs = [
      { collection: 'good', indexes: [{ key: { a: 1 as const }, name: 'a' }] },
      { collection: 'bad', indexes: [index as unknown as IndexSpec] },
    ];
    await expect(ensureIndexes(ctx.db(), specs)).rejects.toMatchObject({
      code: 'MONGO_UNSUPPORTED',
      kind: 'failed_precondition',
    });
    expect(await ctx.db().listCollections().toArray()).toEqual([]);
  });
});
