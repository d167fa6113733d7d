import { EventEmitter } from 'node:events';
import { commonServiceConfig, loadConfig } from '@isams-sync/config';
import type { Logger } from '@isams-sync/logger';
import { telemetryServiceConfig } from '@isams-sync/telemetry';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { runService, runServiceMain } from '@isams-sync/runtime';

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

  it('exits 1 when start-up fails, and a later signal stops nothing', async () => {
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

  it('a signal while the start still waits (a dependency down) stops it and exits 0', async () => {
    const p = fakeProcess();
    const errors = vi.fn();
    let cut: (err: Error) => void = () => undefined;
    const stop = vi.fn(async () => cut(new Error('stopping')));
    const running = runService({
      logger: { ...logger, error: errors },
      start: () => new Promise<void>((_, reject) => (cut = reject)),
      stop,
      shutdownTimeoutMs: 1000,
      process: p.proc,
    });
    await tick();
    p.emit('SIGTERM');
    await running;
    await tick();
    expect(stop).toHaveBeenCalledTimes(1);
    expect(p.exits).toEqual([0]);
    expect(errors).not.toHaveBeenCalled();
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

const schema = z.object({ ...commonServiceConfig, ...telemetryServiceConfig });
// No OTLP endpoint: tracing stays off (the API's no-op), as in a service's tests.
const configOf = (env: Record<string, string>) => loadConfig(schema, { LOG_LEVEL: 'silent', ...env });
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('runServiceMain', () => {
  it('makes the app with the config and a logger, starts it, and stops it once on the first signal', async () => {
    const p = fakeProcess();
    const config = configOf({});
    const app = { start: vi.fn(async () => undefined), stop: vi.fn(async () => undefined) };
    const createApp = vi.fn((_config: typeof config, _logger: Logger) => app);
    await runServiceMain({ service: 'demo', config, createApp, process: p.proc });
    expect(createApp).toHaveBeenCalledTimes(1);
    expect(createApp.mock.calls[0]![0]).toBe(config);
    expect(typeof createApp.mock.calls[0]![1].info).toBe('function');
    expect(app.start).toHaveBeenCalledTimes(1);
    p.emit('SIGTERM');
    p.emit('SIGINT');
    await wait(10);
    expect(app.stop).toHaveBeenCalledTimes(1);
    expect(p.exits).toEqual([0]);
  });

  it('gives the stop SHUTDOWN_TIMEOUT_MS plus extraShutdownMs before exiting 1', async () => {
    const p = fakeProcess();
    const app = { start: async () => undefined, stop: () => new Promise<void>(() => undefined) };
    await runServiceMain({
      service: 'demo',
      config: configOf({ SHUTDOWN_TIMEOUT_MS: '20' }),
      createApp: async () => app,
      extraShutdownMs: 1_000,
      process: p.proc,
    });
    p.emit('SIGTERM');
    await wait(100);
    expect(p.exits).toEqual([]);
    await wait(1_200);
    expect(p.exits).toEqual([1]);
  });
});
