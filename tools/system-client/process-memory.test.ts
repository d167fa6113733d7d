import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cpuSeconds, machineCpu, startCpuMeter, waitForIdleMachine, waitForQuiet } from './process-memory';

describe('process CPU', () => {
  it('counts the CPU time a process used, and nothing for one that is gone', () => {
    const before = cpuSeconds(process.pid)!;
    // Busy until this process has used 150 ms of CPU by its own count (not 150 ms of wall time: on a
    // loaded machine that can be well under 100 ms of CPU).
    const start = process.cpuUsage();
    const used = () => {
      const { user, system } = process.cpuUsage(start);
      return (user + system) / 1e6;
    };
    while (used() < 0.15);
    const counted = cpuSeconds(process.pid)! - before;
    // /proc counts in ticks of 10 ms; the process's other threads (the collector's) count too.
    expect(counted).toBeGreaterThanOrEqual(0.13);
    expect(counted).toBeLessThan(used() + 0.5);
    expect(cpuSeconds(999_999_999)).toBeUndefined();
  });

  it('waits for busy processes to go quiet, and says so when they do not', async () => {
    const idle = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
    const busy = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
    try {
      // Node's own start-up is busy for a moment, then the idle child waits quietly.
      expect((await waitForQuiet([idle.pid], { windowMs: 300, timeoutMs: 10_000 })).quiet).toBe(true);
      const busyWait = await waitForQuiet([idle.pid, busy.pid], { windowMs: 300, timeoutMs: 900 });
      expect(busyWait.quiet).toBe(false);
      expect(busyWait.seconds).toBeGreaterThanOrEqual(0.9);
    } finally {
      idle.kill();
      busy.kill();
    }
  });
});

describe('machine CPU', () => {
  it('does not call a machine idle while a process spins on one of its cores', async () => {
    const busy = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
    try {
      const wait = await waitForIdleMachine({ windowMs: 300, timeoutMs: 900 });
      expect(wait.quiet).toBe(false);
      expect(wait.seconds).toBeGreaterThanOrEqual(0.9);
    } finally {
      busy.kill();
    }
  });

  it('reads the machine’s cores and busy time, and meters a busy process within the machine’s', () => {
    const machine = machineCpu()!;
    expect(machine.cores).toBeGreaterThan(0);
    expect(machine.busySeconds).toBeGreaterThan(0);
    const meter = startCpuMeter({ self: process.pid, gone: 999_999_999 });
    const start = process.cpuUsage();
    const used = () => {
      const { user, system } = process.cpuUsage(start);
      return (user + system) / 1e6;
    };
    while (used() < 0.2);
    const use = meter.stop()!;
    expect(use.cores).toBe(machine.cores);
    expect(use.processes.self).toBeGreaterThanOrEqual(0.18);
    expect(use.processes).not.toHaveProperty('gone');
    // The machine's count includes this process's and cannot pass every core busy for the whole wall
    // time (both counted in ticks of 10 ms, the machine's per core).
    expect(use.machineSeconds).toBeGreaterThanOrEqual(use.processes.self! - 0.05);
    expect(use.machineSeconds).toBeLessThanOrEqual(use.cores * (use.wallSeconds + 0.01) + 0.05);
  });
});
