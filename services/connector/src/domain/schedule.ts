import { createHash } from 'node:crypto';

/**
 * When the scheduler next runs a school, and its failure streak (`sync_schedules`, `_id` = tenant
 * id). A document of its own, apart from the settings: the scheduler moves it at every run it starts,
 * a failed run backs it off, and on FerretDB every update is a read and a whole-document write, so
 * had these fields been in the settings, a write of theirs sent beside an admin's save could put back
 * the address, key and e-mails that save replaced. Only the admin's save writes both documents: the
 * schedule before the settings when it sets a time, after them when it clears it, so a save cut off
 * in between never leaves enabled settings without a time (a time beside disabled settings is moved
 * on by the scheduler without a run).
 */
export interface SchoolSchedule {
  _id: string;
  tenantId: string;
  /** When the scheduler should next run this school; null when its sync is off. */
  nextRunAt: Date | null;
  /** Consecutive transiently failed runs (back-off); ended by a run that ends well. */
  consecutiveFailures: number;
}

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

/**
 * Replicas race for a school's due time by inserting its claim (one wins), and the winner then
 * moves the schedule on. A winner that dies in between leaves the due time claimed with the
 * schedule unmoved; so a due time has one claim per window of this length after it, and the next
 * window's claim can be taken by any replica. A winner alive moves the schedule on within
 * milliseconds, so a second claim of the same due time means its first winner died (or stalled
 * for minutes, when at worst one extra scheduled run is requested — the run queue takes one run
 * per school at a time).
 */
export const SCHEDULE_CLAIM_RETRY_MS = 5 * 60_000;

/** Which claim window of `dueAt` it is at `now` (0 until SCHEDULE_CLAIM_RETRY_MS after it). */
export function scheduleClaimAttempt(dueAt: Date, now: Date): number {
  return Math.floor(Math.max(0, now.getTime() - dueAt.getTime()) / SCHEDULE_CLAIM_RETRY_MS);
}

/** The claim's unique id: the first window keeps the id claims had before there were windows. */
export function scheduleClaimKey(tenantId: string, dueAt: Date, attempt: number): string {
  return attempt === 0 ? `${tenantId}#${dueAt.getTime()}` : `${tenantId}#${dueAt.getTime()}#${attempt}`;
}
