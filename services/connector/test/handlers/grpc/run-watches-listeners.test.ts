import { getEventListeners } from 'node:events';
import { eventually } from '@isams-sync/testing';
import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../../src/domain/run-record';
import { RunChanges } from '../../../src/handlers/grpc/run-changes';
import { RunWatches } from '../../../src/handlers/grpc/run-watches';
import { runRecord } from '../../support/run-records';

// No listener is left on the process' long-lived `stopping` signal by streams that end otherwise.
describe('RunWatches leaves no listener on stopping', () => {
  it('after 200 streams end by cancel, a terminal run and a failed read, stopping has no abort listener', async () => {
    const records = new Map<string, RunRecord>();
    records.set('r1', runRecord('a', 'r1', new Date('2026-12-01T08:00:00Z'), { status: 'fetching' }));
    records.set('r2', runRecord('a', 'r2', new Date('2026-12-01T08:00:00Z'), { status: 'failed' }));
    const runs = { get: async (_t: string, id: string) => records.get(id) ?? null };
    const stopping = new AbortController();
    const watches = new RunWatches({
      runs,
      changes: new RunChanges(),
      pollMs: 600_000,
      stopping: stopping.signal,
      maxStreamsPerSchool: 1000,
    });
    const cancels: AbortController[] = [];
    const done: Promise<unknown>[] = [];
    let sent = 0;
    for (let i = 0; i < 200; i++) {
      const c = new AbortController();
      cancels.push(c);
      const id = i % 3 === 0 ? 'r1' : i % 3 === 1 ? 'r2' : 'missing';
      done.push(watches.watch('a', id, c.signal, async () => void (sent += 1)).catch(() => undefined));
    }
    await eventually(() => sent >= 134, 'the streams to send', { intervalMs: 1 });
    expect(getEventListeners(stopping.signal, 'abort').length).toBe(67);
    for (const c of cancels) c.abort();
    await Promise.all(done);
    expect(getEventListeners(stopping.signal, 'abort').length).toBe(0);
    expect(watches.readerCount).toBe(0);
  });
});
