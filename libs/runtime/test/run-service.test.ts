import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { runService } from '@isams-sync/runtime';

function fakeProcess() {
  const emitter = new EventEmitter();
  const exits: number[] = [];
  return {
    proc: { on: emitter.on.bind(emitter), exit: (code?: number) => void exits.push(code ?? 0) } as never,
    emit: (signal: string) => emitter.emit(signal),
    exits,
  };
}
const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
const tick = () => new Promise((r) => setTimeout(r, 10));

describe('runService', () => {
  it('stops once on the first signal and exits 0', async () => {
    const p = fakeProcess();
    const stop = vi.fn(async () => undefined);
    await runService({
      logger,
      start: async () => undefined,
      stop,
      shutdownTimeoutMs: 1000,
      process: p.proc,
    });
    p.emit('SIGTERM');
    p.emit('SIGINT');
    await tick();
    expect(stop).toHaveBeenCalledTimes(1);
    expect(p.exits).toEqual([0]);
  });

  it('exits 1 when start-up fails, without installing handlers', async () => {
    const p = fakeProcess();
    const stop = vi.fn(async () => undefined);
    await runService({
      logger,
      start: async () => Promise.reject(new Error('no db')),
      stop,
      shutdownTimeoutMs: 1000,
      process: p.proc,
    });
    p.emit('SIGTERM');
    await tick();
    expect(p.exits).toEqual([1]);
    expect(stop).not.toHaveBeenCalled();
  });

  it('exits 1 when stopping fails or outlives the deadline', async () => {
    const failing = fakeProcess();
    await runService({
      logger,
      start: async () => undefined,
      stop: async () => Promise.reject(new Error('x')),
      shutdownTimeoutMs: 1000,
      process: failing.proc,
    });
    failing.emit('SIGTERM');
    await tick();
    expect(failing.exits).toEqual([1]);

    const hanging = fakeProcess();
    await runService({
      logger,
      start: async () => undefined,
      stop: () => new Promise(() => undefined),
      shutdownTimeoutMs: 20,
      process: hanging.proc,
    });
    hanging.emit('SIGINT');
    await new Promise((r) => setTimeout(r, 60));
    expect(hanging.exits).toEqual([1]);
  });
});
