import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../src/index';

describe('backoffDelay', () => {
  it('grows exponentially without jitter and is capped', () => {
    const opts = { initialMs: 100, factor: 2, maxMs: 1000, jitter: 0 };
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, opts))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('spreads by at most the jitter fraction', () => {
    const opts = { initialMs: 1000, jitter: 0.2 };
    expect(backoffDelay(1, opts, () => 0)).toBe(800);
    expect(backoffDelay(1, opts, () => 0.5)).toBe(1000);
    expect(backoffDelay(1, opts, () => 0.999999)).toBe(1200);
  });
});
