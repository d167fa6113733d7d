import { describe, expect, it } from 'vitest';
import { forEachConcurrently } from '../src/index';

const tick = () => new Promise((r) => setImmediate(r));

describe('forEachConcurrently', () => {
  it('calls fn for every item, at most `limit` at once, starting them in order', async () => {
    const started: number[] = [];
    let running = 0;
    let most = 0;
    await forEachConcurrently([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      started.push(n);
      running += 1;
      most = Math.max(most, running);
      for (let i = 0; i < 8 - n; i++) await tick();
      running -= 1;
    });
    expect(started).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(most).toBe(3);
  });

  it('resolves at once for no items, and treats a limit below one as one', async () => {
    await forEachConcurrently([], 4, () => Promise.reject(new Error('never called')));
    let running = 0;
    let most = 0;
    await forEachConcurrently([1, 2, 3], 0, async () => {
      running += 1;
      most = Math.max(most, running);
      await tick();
      running -= 1;
    });
    expect(most).toBe(1);
  });

  it('after a failure starts no other item, and rejects with the first failure once the calls under way settle', async () => {
    const started: number[] = [];
    const settled: number[] = [];
    const run = forEachConcurrently([1, 2, 3, 4, 5, 6], 2, async (n) => {
      started.push(n);
      await tick();
      if (n === 2) throw new Error('item 2 failed');
      for (let i = 0; i < 3; i++) await tick();
      settled.push(n);
    });
    await expect(run).rejects.toThrow('item 2 failed');
    // 2 failed while 1 was under way: 1 ended, and neither worker started 3.
    expect(started).toEqual([1, 2]);
    expect(settled).toEqual([1]);
  });
});
