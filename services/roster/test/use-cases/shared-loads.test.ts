import { describe, expect, it } from 'vitest';
import { SharedLoads } from '../../src/use-cases/shared-loads';

/** Lets every promise callback that can run now run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('SharedLoads: a load that fails', () => {
  it('rejects every caller that shares it with its error, frees its place, and the next caller loads afresh', async () => {
    const loads = new SharedLoads({ perTenant: 1, total: 1 });
    let runs = 0;
    const hold = Promise.withResolvers<void>();
    const running = loads.get('school-a', 'first', undefined, async () => {
      runs += 1;
      await hold.promise;
      throw new Error('database gone');
    });
    // Queued behind it (the school's one place is taken), and shared by three callers.
    const waiting = [1, 2, 3].map(() =>
      loads.get('school-a', 'k', undefined, async () => {
        runs += 1;
        throw new Error('boom');
      }),
    );
    await settle();
    hold.resolve();
    await expect(running).rejects.toThrow('database gone');
    for (const w of waiting) await expect(w).rejects.toThrow('boom');
    expect(runs).toBe(2);
    expect(loads.runningCount).toBe(0);
    await expect(loads.get('school-a', 'k', undefined, () => Promise.resolve('fine'))).resolves.toBe('fine');
  });
});
