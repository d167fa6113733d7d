import { createHash } from 'node:crypto';

/** A stable offset in [0, jitterMs) per school, so schools spread over the hour but keep their slot. */
export function scheduleJitterMs(tenantId: string, jitterMs: number): number {
  if (jitterMs <= 0) return 0;
  const n = createHash('sha256').update(tenantId).digest().readUInt32BE(0);
  return n % jitterMs;
}

/**
 * When the school's next scheduled run is due after a run ended at `endedAt`. After transient
 * failures the interval doubles per consecutive failure (at most ×8), so a struggling iSAMS is not
 * hammered; any success resets it.
 */
export function nextScheduledRun(input: {
  tenantId: string;
  endedAt: Date;
  scheduleMinutes: number;
  jitterMs: number;
  consecutiveFailures: number;
}): Date {
  const factor = 2 ** Math.min(3, Math.max(0, input.consecutiveFailures - 1));
  const interval = input.scheduleMinutes * 60_000 * (input.consecutiveFailures > 0 ? factor : 1);
  return new Date(input.endedAt.getTime() + interval + scheduleJitterMs(input.tenantId, input.jitterMs));
}

/** First due time after the settings were saved or re-enabled: soon, spread by the jitter. */
export function firstScheduledRun(tenantId: string, now: Date, jitterMs: number): Date {
  return new Date(now.getTime() + scheduleJitterMs(tenantId, jitterMs));
}
