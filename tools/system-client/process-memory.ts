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
