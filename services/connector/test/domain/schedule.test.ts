import { describe, expect, it } from 'vitest';
import { SCHEDULE_CLAIM_RETRY_MS, scheduleClaimAttempt, scheduleClaimKey } from '../../src/domain/schedule';

describe('schedule claims', () => {
  const due = new Date('2026-12-03T09:00:00.000Z');
  const at = (ms: number) => new Date(due.getTime() + ms);

  it('give a due time one claim per window after it, the first window until SCHEDULE_CLAIM_RETRY_MS', () => {
    expect(scheduleClaimAttempt(due, at(-60_000))).toBe(0);
    expect(scheduleClaimAttempt(due, due)).toBe(0);
    expect(scheduleClaimAttempt(due, at(SCHEDULE_CLAIM_RETRY_MS - 1))).toBe(0);
    expect(scheduleClaimAttempt(due, at(SCHEDULE_CLAIM_RETRY_MS))).toBe(1);
    expect(scheduleClaimAttempt(due, at(3 * SCHEDULE_CLAIM_RETRY_MS + 1))).toBe(3);
  });

  it('keep the id claims had before windows for the first window, and a distinct id for each later one', () => {
    expect(scheduleClaimKey('school-a', due, 0)).toBe(`school-a#${due.getTime()}`);
    const ids = [0, 1, 2].map((attempt) => scheduleClaimKey('school-a', due, attempt));
    expect(new Set(ids).size).toBe(3);
    expect(scheduleClaimKey('school-b', due, 1)).not.toBe(ids[1]);
  });
});
