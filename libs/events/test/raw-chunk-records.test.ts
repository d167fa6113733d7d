import { describe, expect, it } from 'vitest';
import { isAppError } from '@isams-sync/errors';
import type { RawElement } from '@isams-sync/isams';
import {
  RAW_ELEMENT_MAX_DEPTH,
  isExactRawElement,
  rawDatasetChunkV1,
  rawElementSchema,
} from '../src/types/raw-dataset.events';

// The raw chunk's records are vouched for by a structural check (`isExactRawElement`) instead of
// zod's walk of every element; whenever the check says no, the schema decides. Either way the outcome
// must be the schema's: the same data, the same refusals.

const pupil = (i: number) => ({
  name: 'Pupil',
  attributes: { Id: String(i), SchoolId: `P${i}` },
  children: [
    { name: 'Forename', attributes: {}, text: `Zoë ${i}`, children: [] },
    { name: 'Surname', attributes: {}, text: 'Smith', children: [] },
    {
      name: 'Contacts',
      attributes: {},
      children: [
        {
          name: 'Contact',
          attributes: { Id: `${i}-1` },
          children: [{ name: 'Title', attributes: {}, children: [] }],
        },
      ],
    },
  ],
});

const chunk = (records: unknown[]) => ({
  syncRunId: 'run-1',
  datasetId: 'currentPupils',
  chunkIndex: 0,
  chunkCount: 1,
  firstRecordOrdinal: 0,
  datasetFingerprint: 'a'.repeat(64),
  records,
});

const event = (data: unknown) => ({
  specversion: '1.0',
  id: '0b0e5f7e-1b7a-8c1d-9e2f-3a4b5c6d7e8f',
  source: '/isams-sync/connector',
  type: rawDatasetChunkV1.type,
  time: '2026-12-05T09:00:00.000Z',
  datacontenttype: 'application/json',
  tenantid: 'school-1',
  data,
});

/** What the schema alone makes of `data`: its output, or its error's code and message. */
function bySchema(data: unknown) {
  const r = rawDatasetChunkV1.schema.safeParse(data);
  return r.success ? { data: r.data } : { refused: true };
}

function byParse(data: unknown) {
  try {
    return { data: rawDatasetChunkV1.parse(event(data)).data };
  } catch (err) {
    if (!isAppError(err)) throw err;
    expect(err.code).toBe('EVENT_DATA_INVALID');
    return { refused: true };
  }
}

const corruptions: Array<[string, (r: ReturnType<typeof pupil>) => unknown]> = [
  ['no name', ({ name: _, ...r }) => r],
  ['an empty name', (r) => ({ ...r, name: '' })],
  ['a numeric name', (r) => ({ ...r, name: 7 })],
  ['no attributes', ({ attributes: _, ...r }) => r],
  ['attributes as an array', (r) => ({ ...r, attributes: ['x'] })],
  ['an attribute that is a number', (r) => ({ ...r, attributes: { Id: 1 } })],
  ['a text that is a number', (r) => ({ ...r, text: 3 })],
  ['no children', ({ children: _, ...r }) => r],
  ['children as an object', (r) => ({ ...r, children: {} })],
  ['a null child', (r) => ({ ...r, children: [null] })],
  [
    'a bad grandchild',
    (r) => ({
      ...r,
      children: [{ ...r.children[2]!, children: [{ name: 'X', attributes: { a: null }, children: [] }] }],
    }),
  ],
  ['an extra key (stripped by the schema)', (r) => ({ ...r, extra: 'x' })],
  ['an extra key deep down (stripped)', (r) => ({ ...r, children: [{ ...r.children[0]!, note: 1 }] })],
  ['a record that is a string', () => 'Pupil'],
];

describe('raw chunk records: the structural check stands for the schema', () => {
  it('accepts well-formed records as they are (no copy), with the schema’s result', () => {
    const records = Array.from({ length: 50 }, (_, i) => pupil(i));
    const data = chunk(records);
    const parsed = byParse(data);
    expect(parsed).toEqual(bySchema(data));
    expect((parsed.data as { records: unknown[] }).records).toBe(records);
    expect(records.every(isExactRawElement)).toBe(true);
    expect(records.every((r) => rawElementSchema.safeParse(r).success)).toBe(true);
  });

  it.each(corruptions)('with %s, parses exactly as the schema does', (name, corrupt) => {
    const records = [pupil(1), corrupt(pupil(2)), pupil(3)];
    expect(isExactRawElement(records[1])).toBe(false);
    const want = bySchema(chunk(records));
    // The schema strips unknown keys and refuses everything else.
    expect('refused' in want).toBe(!name.includes('stripped'));
    expect(byParse(chunk(records))).toEqual(want);
  });

  it('still checks the rest of the chunk with the schema (an index past the count, a bad fingerprint)', () => {
    expect(byParse({ ...chunk([pupil(1)]), chunkIndex: 1 })).toEqual({ refused: true });
    expect(byParse({ ...chunk([pupil(1)]), datasetFingerprint: 'nope' })).toEqual({ refused: true });
    expect(byParse({ ...chunk([pupil(1)]), surplus: true })).toEqual({ refused: true });
  });

  it('walks a deep tree without recursion (and says no past the depth bound)', () => {
    let deep: RawElement = { name: 'Leaf', attributes: {}, children: [] };
    for (let i = 0; i < 100_000; i++) deep = { name: 'N', attributes: {}, children: [deep] };
    expect(isExactRawElement(deep)).toBe(false);
  });
});

/** A record `depth` elements deep (the record itself counting 1); `bottom` adds keys to the innermost. */
function nested(depth: number, bottom: Record<string, unknown> = {}): RawElement {
  let e = { name: 'Leaf', attributes: {}, children: [], ...bottom } as RawElement;
  for (let i = 1; i < depth; i++) e = { name: 'Node', attributes: { Id: String(i) }, children: [e] };
  return e;
}

/** The error `rawDatasetChunkV1.parse` throws for `data`, whatever it is (a RangeError too). */
function refusal(data: unknown): unknown {
  try {
    rawDatasetChunkV1.parse(event(data));
  } catch (err) {
    return err;
  }
  throw new Error('expected the chunk to be refused');
}

/** Recurses until `frames` deep, then runs `fn` with what that leaves of the stack; notes how deep it got. */
let deepestFrame = 0;
function withFramesBelow<T>(frames: number, fn: () => T, depth = 0): T {
  deepestFrame = Math.max(deepestFrame, depth);
  return depth >= frames ? fn() : withFramesBelow(frames, fn, depth + 1);
}

describe('raw chunk records: nesting is bounded by RAW_ELEMENT_MAX_DEPTH', () => {
  it('accepts a record exactly RAW_ELEMENT_MAX_DEPTH deep, vouched for or through the schema', () => {
    const exact = nested(RAW_ELEMENT_MAX_DEPTH);
    expect(isExactRawElement(exact)).toBe(true);
    expect(byParse(chunk([exact]))).toEqual({ data: chunk([exact]) });
    // An unknown key at the bottom: the schema walks all the way down and strips it.
    const stripped = byParse(chunk([nested(RAW_ELEMENT_MAX_DEPTH, { note: 1 })]));
    expect(stripped).toEqual({ data: chunk([exact]) });
  });

  it.each([
    ['its elements well-formed', {}],
    ['an unknown key on its innermost element', { bogus: 1 }],
  ])('refuses a record one level deeper, %s, with EVENT_DATA_INVALID naming the bound', (_, bottom) => {
    const tooDeep = nested(RAW_ELEMENT_MAX_DEPTH + 1, bottom);
    expect(isExactRawElement(tooDeep)).toBe(false);
    expect(rawDatasetChunkV1.schema.safeParse(chunk([tooDeep])).success).toBe(false);
    const err = refusal(chunk([nested(1), tooDeep]));
    expect(isAppError(err) && err.code).toBe('EVENT_DATA_INVALID');
    expect((err as Error).message).toContain(
      `records.1: a raw element may nest at most ${RAW_ELEMENT_MAX_DEPTH} levels deep`,
    );
  });

  it.each([
    ['1,000 levels with an unknown key at the bottom (zod overflowed)', 1000, { bogus: 1 }],
    ['20,000 levels, well-formed (passed, then overflowed in JSON.stringify)', 20_000, {}],
    ['200,000 levels, well-formed', 200_000, {}],
  ])('refuses the audit’s hostile record, %s, without exhausting the stack', (_, depth, bottom) => {
    const hostile = { name: 'Pupil', attributes: { Id: '1' }, children: [nested(depth, bottom)] };
    const err = refusal(chunk([hostile]));
    expect(err).not.toBeInstanceOf(RangeError);
    expect(isAppError(err) && err.code).toBe('EVENT_DATA_INVALID');
    expect(rawElementSchema.safeParse(hostile).success).toBe(false);
    expect(rawDatasetChunkV1.schema.safeParse(chunk([hostile])).success).toBe(false);
  });

  it('validates a record at the bound through the recursive schema with half the stack used up', () => {
    // How many of these frames the whole stack holds (the same function is used below).
    expect(() => withFramesBelow(Number.POSITIVE_INFINITY, () => 0)).toThrow(RangeError);
    const frames = deepestFrame;
    // What zod needs for RAW_ELEMENT_MAX_DEPTH levels must fit in what half the stack's frames leave.
    const atBound = chunk([nested(RAW_ELEMENT_MAX_DEPTH, { note: 1 })]);
    const result = withFramesBelow(Math.floor(frames / 2), () => rawDatasetChunkV1.schema.safeParse(atBound));
    expect(result.success).toBe(true);
  });
});
