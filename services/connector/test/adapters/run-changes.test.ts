import { describe, expect, it } from 'vitest';
import { RunChanges } from '../../src/handlers/grpc/run-changes';

const never = new AbortController().signal;

describe('RunChanges', () => {
  it('wakes every view of a run at its write, and only that run’s', async () => {
    const changes = new RunChanges();
    const woken: string[] = [];
    const a1 = changes.next('a', 60_000, never).then(() => woken.push('a1'));
    const a2 = changes.next('a', 60_000, never).then(() => woken.push('a2'));
    const b = changes.next('b', 60_000, never).then(() => woken.push('b'));
    changes.changed('a');
    await Promise.all([a1, a2]);
    expect(woken.sort()).toEqual(['a1', 'a2']);
    expect(changes.waitingCount).toBe(1);
    changes.changed('b');
    await b;
    expect(changes.waitingCount).toBe(0);
  });

  it('wakes at the poll interval, or at once when the view is closed, leaving nothing behind', async () => {
    const changes = new RunChanges();
    await changes.next('a', 5, never);
    const closed = new AbortController();
    const view = changes.next('a', 60_000, closed.signal);
    expect(changes.waitingCount).toBe(1);
    closed.abort();
    await view;
    expect(changes.waitingCount).toBe(0);
    await changes.next('a', 60_000, closed.signal);
    expect(changes.waitingCount).toBe(0);
  });
});
