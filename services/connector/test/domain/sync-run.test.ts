import { describe, expect, it } from 'vitest';
import { canonicalRawJson } from '../../src/domain/canonical-json';
import { ChunkPlanner } from '../../src/domain/chunk-plan';
import { firstScheduledRun, nextScheduledRun, scheduleJitterMs } from '../../src/domain/schedule';
import { isUnchanged } from '../../src/domain/sync-run';

describe('canonical JSON of raw records', () => {
  it('sorts attributes, keeps text and children in order, and round-trips as JSON', () => {
    const a = canonicalRawJson({
      name: 'Pupil',
      attributes: { b: '2', a: '1' },
      children: [{ name: 'Forename', attributes: {}, text: 'Ann "A"', children: [] }],
    });
    const b = canonicalRawJson({
      name: 'Pupil',
      attributes: { a: '1', b: '2' },
      children: [{ name: 'Forename', attributes: {}, text: 'Ann "A"', children: [] }],
    });
    expect(a).toBe(b);
    expect(JSON.parse(a)).toEqual({
      name: 'Pupil',
      attributes: { a: '1', b: '2' },
      children: [{ name: 'Forename', attributes: {}, text: 'Ann "A"', children: [] }],
    });
  });
});

describe('chunk planning', () => {
  it('closes a chunk before it would exceed the budget; an oversized record gets its own', () => {
    const p = new ChunkPlanner(100);
    for (const size of [40, 40, 40, 500, 10]) p.add(size);
    expect(p.finish()).toEqual([2, 1, 1, 1]);
  });
  it('an empty dataset is one chunk of zero records', () => {
    expect(new ChunkPlanner(100).finish()).toEqual([0]);
  });
});

describe('unchanged detection', () => {
  const fp = (c: string) => c.repeat(64);
  const last = {
    syncRunId: 'r1',
    fingerprints: { currentPupils: fp('a'), currentStaff: fp('b') },
    absent: ['contacts' as const],
  };
  it('needs the same fingerprints for the same datasets and the same absent set', () => {
    const same = [
      { datasetId: 'currentPupils' as const, fingerprint: fp('a') },
      { datasetId: 'currentStaff' as const, fingerprint: fp('b') },
    ];
    expect(isUnchanged(same, ['contacts'], last)).toBe(true);
    expect(isUnchanged(same, ['contacts'], null)).toBe(false);
    expect(isUnchanged(same, [], last)).toBe(false);
    expect(
      isUnchanged([same[0]!, { datasetId: 'currentStaff', fingerprint: fp('c') }], ['contacts'], last),
    ).toBe(false);
    expect(isUnchanged([same[0]!], ['contacts'], last)).toBe(false);
  });
});

describe('schedule', () => {
  it('jitters deterministically per school within the bound', () => {
    expect(scheduleJitterMs('s1', 60_000)).toBe(scheduleJitterMs('s1', 60_000));
    expect(scheduleJitterMs('s1', 60_000)).toBeLessThan(60_000);
    expect(scheduleJitterMs('s1', 0)).toBe(0);
    expect(firstScheduledRun('s1', new Date(0), 0).getTime()).toBe(0);
  });
  it('backs off after transient failures (×2 per failure, at most ×8)', () => {
    const at = (failures: number) =>
      nextScheduledRun({
        tenantId: 't',
        endedAt: new Date(0),
        scheduleMinutes: 60,
        jitterMs: 0,
        consecutiveFailures: failures,
      }).getTime() / 3_600_000;
    expect([0, 1, 2, 3, 4, 10].map(at)).toEqual([1, 1, 2, 4, 8, 8]);
  });
});
