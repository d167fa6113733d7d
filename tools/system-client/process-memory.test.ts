import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cpuSeconds, waitForQuiet } from './process-memory';

describe('process CPU', () => {
  it('counts the CPU time a process used, and nothing for one that is gone', () => {
    const before = cpuSeconds(process.pid)!;
    const until = performance.now() + 150;
    while (performance.now() < until);
    expect(cpuSeconds(process.pid)! - before).toBeGreaterThanOrEqual(0.1);
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
