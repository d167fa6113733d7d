import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startPeriodic, startRetention } from '../src/periodic';

function recordingLogger() {
  const warnings: Array<{ fields: Record<string, unknown>; msg: string }> = [];
  const infos: Array<{ fields: Record<string, unknown>; msg: string }> = [];
  const logger = {
    warn: (fields: Record<string, unknown>, msg: string) => warnings.push({ fields, msg }),
    info: (fields: Record<string, unknown>, msg: string) => infos.push({ fields, msg }),
    error: () => undefined,
    debug: () => undefined,
  };
  return { logger: logger as never, warnings, infos };
}

/** A task whose runs end only when the test says so. */
function heldTask() {
  const releases: Array<() => void> = [];
  let started = 0;
  const task = () =>
    new Promise<void>((resolve) => {
      started += 1;
      releases.push(resolve);
    });
  return { task, started: () => started, releaseAll: () => releases.splice(0).forEach((r) => r()) };
}

describe('startPeriodic', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('starts no run while one is under way, and the next one after it ends', async () => {
    const { logger } = recordingLogger();
    const held = heldTask();
    const periodic = startPeriodic(held.task, { name: 'sweep', intervalMs: 1_000, logger });
    await vi.advanceTimersByTimeAsync(5_500);
    expect(held.started()).toBe(1);
    held.releaseAll();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(held.started()).toBe(2);
    held.releaseAll();
    await periodic.stop();
  });

  it('logs a failed run and runs again at the next interval', async () => {
    const { logger, warnings } = recordingLogger();
    let runs = 0;
    const periodic = startPeriodic(
      async () => {
        runs += 1;
        throw new Error('database unavailable');
      },
      { name: 'sweep', intervalMs: 1_000, logger },
    );
    await vi.advanceTimersByTimeAsync(2_000);
    expect(runs).toBe(2);
    expect(warnings.map((w) => w.msg)).toEqual([
      'sweep failed; tried again at the next interval',
      'sweep failed; tried again at the next interval',
    ]);
    await periodic.stop();
  });

  it('logs a run that outlasts stuckAfterMs once, with its progress', async () => {
    const { logger, warnings } = recordingLogger();
    const held = heldTask();
    let step = 'resume unfinished changesets';
    const periodic = startPeriodic(held.task, {
      name: 'sweep',
      intervalMs: 1_000,
      logger,
      stuckAfterMs: 10_000,
      progress: () => step,
    });
    await vi.advanceTimersByTimeAsync(10_500);
    expect(warnings).toEqual([]);
    step = 'prune leases';
    await vi.advanceTimersByTimeAsync(30_000);
    expect(warnings).toEqual([
      {
        fields: { task: 'sweep', runningMs: 10_000, progress: 'prune leases' },
        msg: 'sweep still running; later runs wait for it',
      },
    ]);
    held.releaseAll();
    await periodic.stop();
  });

  it('stop starts no more runs and waits for the one under way', async () => {
    const { logger } = recordingLogger();
    const held = heldTask();
    const periodic = startPeriodic(held.task, { name: 'sweep', intervalMs: 1_000, logger });
    await vi.advanceTimersByTimeAsync(1_000);
    let stopped = false;
    const stopping = periodic.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(5_000);
    expect(stopped).toBe(false);
    held.releaseAll();
    await stopping;
    expect(held.started()).toBe(1);
  });

  it('runs first after firstRunAfterMs when given, then every interval; stopped before it, never', async () => {
    const { logger } = recordingLogger();
    let runs = 0;
    const task = async () => {
      runs += 1;
    };
    const periodic = startPeriodic(task, {
      name: 'prune',
      intervalMs: 10_000,
      firstRunAfterMs: 1_000,
      logger,
    });
    await vi.advanceTimersByTimeAsync(999);
    expect(runs).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs).toBe(1);
    await vi.advanceTimersByTimeAsync(9_000);
    expect(runs).toBe(2);
    await periodic.stop();
    const stopped = startPeriodic(task, {
      name: 'prune',
      intervalMs: 10_000,
      firstRunAfterMs: 1_000,
      logger,
    });
    await stopped.stop();
    await vi.advanceTimersByTimeAsync(20_000);
    expect(runs).toBe(2);
  });
});

describe('startRetention', () => {
  beforeEach(() => vi.useFakeTimers({ now: new Date('2026-12-06T12:00:00Z') }));
  afterEach(() => vi.useRealTimers());

  it('drops what is older than keepDays a minute after the start, then hourly; says how many when some went; a failed drop is tried again', async () => {
    const { logger, infos, warnings } = recordingLogger();
    const cutoffs: string[] = [];
    const answers: Array<number | Error> = [3, new Error('database down'), 0];
    const retention = startRetention(
      async (before) => {
        cutoffs.push(before.toISOString());
        const a = answers.shift()!;
        if (a instanceof Error) throw a;
        return a;
      },
      { name: 'audit retention', what: 'audit-log entries', keepDays: 30, intervalMs: 3_600_000, logger },
    );
    await vi.advanceTimersByTimeAsync(59_999);
    expect(cutoffs).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(cutoffs).toEqual(['2026-11-06T12:01:00.000Z']);
    expect(infos).toEqual([
      { fields: { dropped: 3 }, msg: 'audit-log entries past their retention dropped' },
    ]);
    await vi.advanceTimersByTimeAsync(3_600_000 - 60_000);
    expect(cutoffs).toHaveLength(2);
    expect(warnings.map((w) => w.msg)).toEqual(['audit retention failed; tried again at the next interval']);
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(cutoffs).toHaveLength(3);
    // Nothing dropped: nothing said.
    expect(infos).toHaveLength(1);
    await retention.stop();
  });

  it('with an interval under a minute, first runs after one interval', async () => {
    const { logger } = recordingLogger();
    let runs = 0;
    const retention = startRetention(
      async () => {
        runs += 1;
        return 0;
      },
      { name: 'prune', what: 'records', keepDays: 1, intervalMs: 300, logger },
    );
    await vi.advanceTimersByTimeAsync(299);
    expect(runs).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    // The first run and the interval's first tick coincide: one run, not two.
    expect(runs).toBe(1);
    await vi.advanceTimersByTimeAsync(300);
    expect(runs).toBe(2);
    await retention.stop();
  });
});
