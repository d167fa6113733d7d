import { readFileSync } from 'node:fs';

/**
 * Peak resident set size of a running process in MB (`VmHWM` in `/proc/<pid>/status`, Linux only);
 * undefined when the process is gone or the file is unreadable.
 */
export function peakRssMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU time (user + system) a running process has used, in seconds; undefined when it is gone. */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // /proc/<pid>/stat: fields 14 and 15 (utime, stime) in clock ticks, after the `(comm)` field.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** `getconf CLK_TCK` on Linux. */
const CLOCK_TICKS = 100;

/**
 * The whole machine's CPU time since boot (`/proc/stat`, Linux only): `busySeconds` summed over its
 * cores (every state but idle and I/O wait), and how many cores it has; undefined when unreadable.
 */
export function machineCpu(): { busySeconds: number; cores: number } | undefined {
  try {
    const stat = readFileSync('/proc/stat', 'utf8');
    const total = /^cpu\s+(.*)$/m.exec(stat);
    if (!total) return undefined;
    // user nice system idle iowait irq softirq steal (guest time is already counted in user)
    const [user, nice, system, , , irq, softirq, steal] = total[1]!.trim().split(/\s+/).map(Number);
    const busy = [user, nice, system, irq, softirq, steal].reduce<number>((n, v) => n + (v ?? 0), 0);
    const cores = stat.match(/^cpu\d+\s/gm)?.length ?? 0;
    return cores > 0 ? { busySeconds: busy / CLOCK_TICKS, cores } : undefined;
  } catch {
    return undefined;
  }
}

/** What {@link startCpuMeter} measured between its start and `stop()`. */
export interface CpuUse {
  wallSeconds: number;
  /** CPU seconds the whole machine used (every process), summed over its cores. */
  machineSeconds: number;
  cores: number;
  /** CPU seconds of each named process (absent: it was gone or unreadable at either end). */
  processes: Record<string, number>;
}

/**
 * Starts measuring the CPU the named processes and the whole machine use; `stop()` gives what they
 * used since. A benchmark's profile of a phase: whether its wall time was spent waiting for CPU
 * (the machine's cores busy throughout) and which process used it.
 */
export function startCpuMeter(pids: Record<string, number | undefined>): { stop: () => CpuUse | undefined } {
  const started = performance.now();
  const machineBefore = machineCpu();
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
  return {
    stop: () => {
      const machineAfter = machineCpu();
      if (machineBefore === undefined || machineAfter === undefined) return undefined;
      const processes: Record<string, number> = {};
      for (const [name, pid] of Object.entries(pids)) {
        const [b, a] = [before[name], cpuSeconds(pid)];
        if (b !== undefined && a !== undefined) processes[name] = a - b;
      }
      return {
        wallSeconds: (performance.now() - started) / 1000,
        machineSeconds: machineAfter.busySeconds - machineBefore.busySeconds,
        cores: machineAfter.cores,
        processes,
      };
    },
  };
}

/**
 * Waits until the processes together use less than `share` of one core over `windowMs`, at most
 * `timeoutMs`; resolves to the seconds waited and whether they went quiet. What a benchmark does
 * after a big sync (the services still working through its events) before it times a small one.
 */
export function waitForQuiet(
  pids: readonly (number | undefined)[],
  { share = 0.1, windowMs = 1000, timeoutMs = 120_000 } = {},
): Promise<{ seconds: number; quiet: boolean }> {
  return waitUntilQuiet(() => pids.reduce<number>((n, pid) => n + (cpuSeconds(pid) ?? 0), 0), {
    share,
    windowMs,
    timeoutMs,
  });
}

/**
 * {@link waitForQuiet} for the whole machine (every process: the database, the broker, the benchmark
 * itself): until all of them together use less than `share` of one core over `windowMs`. What a
 * benchmark does before each of two measurements it compares, so neither pays for the other's
 * trailing work wherever it runs. Never quiet where `/proc/stat` is unreadable.
 */
export function waitForIdleMachine({ share = 0.25, windowMs = 500, timeoutMs = 5_000 } = {}): Promise<{
  seconds: number;
  quiet: boolean;
}> {
  return waitUntilQuiet(() => machineCpu()?.busySeconds ?? Number.NaN, { share, windowMs, timeoutMs });
}

async function waitUntilQuiet(
  used: () => number,
  { share, windowMs, timeoutMs }: { share: number; windowMs: number; timeoutMs: number },
): Promise<{ seconds: number; quiet: boolean }> {
  const started = performance.now();
  for (;;) {
    const before = used();
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const seconds = (performance.now() - started) / 1000;
    if ((used() - before) / (windowMs / 1000) < share) return { seconds, quiet: true };
    if (seconds * 1000 >= timeoutMs) return { seconds, quiet: false };
  }
}
