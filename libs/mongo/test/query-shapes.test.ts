import { describe, expect, it } from 'vitest';
import { describeShape, indexServing, queryIndexReport, shapesOf } from '../src/query-shapes';
import type { CollectionIndexSpec } from '../src/ensure-indexes';

const catalogue: CollectionIndexSpec[] = [
  {
    collection: 'entities',
    indexes: [
      { key: { tenantId: 1, entityType: 1, entityId: 1 }, name: 'tenant_type_id', unique: true },
      { key: { tenantId: 1, entityType: 1, status: 1 }, name: 'tenant_type_status' },
    ],
  },
  {
    collection: 'heldBatches',
    indexes: [{ key: { tenantId: 1, status: 1, createdAt: 1 }, name: 'tenant_status' }],
  },
];

describe('query shapes', () => {
  it('records fields and operators of each command kind, never values', () => {
    const [find] = shapesOf('find', {
      find: 'entities',
      filter: {
        tenantId: 'secret-school',
        entityType: 'pupil',
        entityId: { $in: ['1'] },
        at: { $lt: new Date() },
      },
      sort: { entityId: 1 },
    });
    expect(find).toEqual({
      collection: 'entities',
      command: 'find',
      equality: ['entityId', 'entityType', 'tenantId'],
      range: ['at'],
      other: [],
      sort: ['entityId'],
    });
    expect(JSON.stringify(find)).not.toContain('secret-school');
    const updates = shapesOf('update', {
      update: 'entities',
      updates: [
        { q: { _id: 'a', $or: [{ fence: { $exists: false } }] } },
        { q: { tenantId: 't', x: { $ne: 1 } } },
      ],
    });
    expect(updates.map(describeShape)).toEqual([
      'entities.update({_id=, $or?})',
      'entities.update({tenantId=, x?})',
    ]);
    expect(shapesOf('insert', { insert: 'entities', documents: [] })).toEqual([]);
    expect(
      shapesOf('aggregate', { aggregate: 'heldBatches', pipeline: [{ $match: { status: 'pending' } }] })[0]
        ?.equality,
    ).toEqual(['status']);
  });

  it('finds the index MongoDB would use, or none (a collection scan)', () => {
    const shape = (collection: string, filter: object, sort?: object) =>
      shapesOf('find', { find: collection, filter, ...(sort ? { sort } : {}) })[0]!;
    expect(indexServing(shape('entities', { _id: 'x' }), catalogue)).toEqual({ name: '_id_', exact: true });
    expect(
      indexServing(shape('entities', { tenantId: 't', entityType: 'pupil', status: 'active' }), catalogue),
    ).toEqual({
      name: 'tenant_type_status',
      exact: true,
    });
    expect(
      indexServing(shape('entities', { tenantId: 't', entityType: 'pupil' }, { entityId: 1 }), catalogue),
    ).toEqual({
      name: 'tenant_type_id',
      exact: true,
    });
    // Served by a prefix only (the residual filter is applied to the index's matches): not exact.
    expect(indexServing(shape('entities', { tenantId: 't', 'image.surname': 'X' }), catalogue)?.exact).toBe(
      false,
    );
    // No index leads with these fields: a scan.
    expect(indexServing(shape('entities', { entityType: 'pupil' }), catalogue)).toBeUndefined();
    expect(
      indexServing(shape('heldBatches', { status: 'pending' }, { createdAt: 1 }), catalogue),
    ).toBeUndefined();
    expect(indexServing(shape('entities', {}), catalogue)).toBeUndefined();
    expect(indexServing(shape('unknown', { tenantId: 't' }), catalogue)).toBeUndefined();
  });

  it('reports each shape with its index and the scans that are not among the cold ones', () => {
    const shape = (collection: string, filter: object) => shapesOf('find', { find: collection, filter })[0]!;
    const report = queryIndexReport(
      'svc',
      [
        shape('entities', { tenantId: 't', entityType: 'pupil', status: 'active' }),
        shape('heldBatches', { status: 'pending' }),
        shape('entities', {}),
        shape('system.indexes', {}),
      ],
      catalogue,
      { 'entities.find({})': 'a start-up check' },
    );
    expect(report.shapes).toHaveLength(3);
    expect(report.hot).toEqual(['heldBatches.find({status=})']);
    expect(report.text).toContain('entities.find({entityType=, status=, tenantId=}) → tenant_type_status');
    expect(report.text).toContain('would scan on MongoDB (2):');
  });
});
