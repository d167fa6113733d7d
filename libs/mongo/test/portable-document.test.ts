import { describe, expect, it } from 'vitest';
import { assertPortableDocument, assertPortablePipeline } from '../src/index';

describe('assertPortableDocument', () => {
  it('accepts ordinary documents with dates, nested documents and arrays of documents', () => {
    expect(() =>
      assertPortableDocument({ a: 1, at: new Date(), nested: { b: [{ c: 'x' }, 2] }, n: null }),
    ).not.toThrow();
  });

  it.each([
    ['a dotted key', { nested: { 'a.b': 1 } }, 'nested.a.b'],
    ['a $ key', { $set: 1 }, '$set'],
    ['a nested array', { grid: [[1, 2]] }, 'grid.0'],
    ['NaN', { score: Number.NaN }, 'score'],
  ])('refuses %s with MONGO_INVALID_DOCUMENT', (_label, doc, path) => {
    expect(() => assertPortableDocument(doc)).toThrow(
      expect.objectContaining({ code: 'MONGO_INVALID_DOCUMENT', details: expect.objectContaining({ path }) }),
    );
  });

  it('refuses documents over 16 MiB (FerretDB would store them, MongoDB would not)', () => {
    expect(() => assertPortableDocument({ s: 'x'.repeat(16 * 1024 * 1024) })).toThrow(
      expect.objectContaining({ code: 'MONGO_INVALID_DOCUMENT' }),
    );
  });
});

describe('assertPortablePipeline', () => {
  it('accepts $match/$group/$sort/$limit/$skip/$project with one $sum or $count', () => {
    expect(() =>
      assertPortablePipeline([
        { $match: { a: 1 } },
        { $group: { _id: '$b', n: { $sum: '$c' } } },
        { $sort: { n: -1 } },
        { $skip: 1 },
        { $limit: 5 },
        { $project: { _id: 1 } },
      ]),
    ).not.toThrow();
  });

  it.each([
    ['$lookup', [{ $lookup: { from: 'x', localField: 'a', foreignField: 'b', as: 'j' } }]],
    ['$facet', [{ $facet: {} }]],
    ['two accumulators', [{ $group: { _id: '$a', n: { $sum: 1 }, t: { $sum: '$v' } } }]],
    ['$max accumulator', [{ $group: { _id: '$a', m: { $max: '$v' } } }]],
    ['no accumulator', [{ $group: { _id: '$a' } }]],
  ])('refuses %s with MONGO_UNSUPPORTED', (_label, pipeline) => {
    expect(() => assertPortablePipeline(pipeline)).toThrow(
      expect.objectContaining({ code: 'MONGO_UNSUPPORTED' }),
    );
  });
});
