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
 * Waits until the processes together use less than `share` of one core over `windowMs`, at most
 * `timeoutMs`; resolves to the seconds waited and whether they went quiet. What a benchmark does
 * after a big sync (the services still working through its events) before it times a small one.
 */
export async function waitForQuiet(
  pids: readonly (number | undefined)[],
  { share = 0.1, windowMs = 1000, timeoutMs = 120_000 } = {},
): Promise<{ seconds: number; quiet: boolean }> {
  const started = performance.now();
  const used = () => pids.reduce<number>((n, pid) => n + (cpuSeconds(pid) ?? 0), 0);
  for (;;) {
    const before = used();
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const seconds = (performance.now() - started) / 1000;
    if ((used() - before) / (windowMs / 1000) < share) return { seconds, quiet: true };
    if (seconds * 1000 >= timeoutMs) return { seconds, quiet: false };
  }
}
