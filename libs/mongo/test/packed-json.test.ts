import { describe, expect, it } from 'vitest';
import { isAppError } from '@isams-sync/errors';
import { packJson, unpackJson } from '../src/packed-json';

/** A value `depth` arrays-in-objects deep. */
function nested(depth: number): unknown {
  let v: unknown = { leaf: true };
  for (let i = 0; i < depth; i++) v = { children: [v] };
  return v;
}

/** The error `packJson(value)` throws. */
function refusal(value: unknown): unknown {
  try {
    packJson(value);
  } catch (err) {
    return err;
  }
  throw new Error('expected packJson to refuse the value');
}

describe('packJson', () => {
  it('round-trips a JSON value (dates as ISO strings, undefined fields dropped)', () => {
    const value = { a: [1, 'two', { three: null }], at: new Date('2026-12-05T09:00:00Z'), gone: undefined };
    expect(unpackJson(packJson(value))).toEqual({
      a: [1, 'two', { three: null }],
      at: '2026-12-05T09:00:00.000Z',
    });
    expect(unpackJson(packJson(nested(500)))).toEqual(nested(500));
  });

  it('refuses a value nested too deep to serialise with MONGO_INVALID_DOCUMENT, not a RangeError', () => {
    const err = refusal(nested(20_000));
    expect(err).not.toBeInstanceOf(RangeError);
    expect(isAppError(err) && err.code).toBe('MONGO_INVALID_DOCUMENT');
    expect((err as Error).message).toBe('Invalid document: value is nested too deeply to store as JSON');
  });

  it('refuses a value JSON cannot hold (a cycle, a bigint) with MONGO_INVALID_DOCUMENT', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    for (const value of [cycle, { n: 1n }]) {
      const err = refusal(value);
      expect(isAppError(err) && err.code).toBe('MONGO_INVALID_DOCUMENT');
      expect((err as Error).message).toMatch(
        /^Invalid document: value cannot be stored as JSON \(TypeError: /,
      );
    }
  });
});
