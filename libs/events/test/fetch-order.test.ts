import { describe, expect, it } from 'vitest';
import { compareFetchOrder } from '../src';

const t = (s: number) => new Date(Date.UTC(2026, 11, 7, 9, 0, s));

describe('compareFetchOrder', () => {
  it('orders by fetch sequence when both have one, whatever the clocks said', () => {
    expect(
      compareFetchOrder({ fetchSequence: 3, fetchedAt: t(0) }, { fetchSequence: 2, fetchedAt: t(30) }),
    ).toEqual({
      order: 1,
      by: 'sequence',
    });
    expect(
      compareFetchOrder({ fetchSequence: 2, fetchedAt: t(30) }, { fetchSequence: 3, fetchedAt: t(0) }).order,
    ).toBe(-1);
    expect(compareFetchOrder({ fetchSequence: 2 }, { fetchSequence: 2 }).order).toBe(0);
  });

  it('orders by fetch time when either has no sequence (a marker from before 1.1.0), as a Date or an ISO string', () => {
    expect(
      compareFetchOrder({ fetchSequence: 1, fetchedAt: t(10) }, { fetchedAt: t(20).toISOString() }),
    ).toEqual({
      order: -1,
      by: 'time',
    });
    expect(compareFetchOrder({ fetchedAt: t(20).toISOString() }, { fetchedAt: t(10) }).order).toBe(1);
    expect(compareFetchOrder({ fetchedAt: t(10) }, { fetchedAt: t(10).toISOString() }).order).toBe(0);
  });

  it('counts a run with neither as the earliest', () => {
    expect(compareFetchOrder({}, { fetchedAt: t(0) }).order).toBe(-1);
    expect(compareFetchOrder({ fetchedAt: t(0) }, {}).order).toBe(1);
    expect(compareFetchOrder({}, {}).order).toBe(0);
  });
});
