import { describe, expect, it } from 'vitest';
import type { RosterEntityType } from '@isams-sync/events';
import type { PlannedChange, StoredByType, StoredEntity } from '../../src/domain/diff';
import { DEFAULT_THRESHOLDS, guard } from '../../src/domain/guard';
import { DiscardMemory, contentHash, itemsFingerprint, mergeBatchItems } from '../../src/domain/held-batch';

const removal = (entityType: RosterEntityType, id: string, surname = `S${id}`): PlannedChange => ({
  entityType,
  entityId: id,
  change: 'removed',
  before: { id, surname },
});
const summary = (cs: readonly PlannedChange[]) => cs.map((c) => `${c.entityType}:${c.change}:${c.entityId}`);

function pupils(n: number): StoredByType {
  const m = new Map<string, StoredEntity>();
  for (let i = 1; i <= n; i += 1)
    m.set(String(i), { entityType: 'pupil', id: String(i), status: 'active', data: { id: String(i) } });
  return { pupil: m };
}

describe('the pending batch across runs (mergeBatchItems)', () => {
  const earlier = [removal('pupil', '1'), removal('pupil', '2'), removal('staff', '9')];

  it('takes the run’s held changes, drops earlier items of judged types the run no longer holds', () => {
    const merged = mergeBatchItems(
      earlier,
      [removal('pupil', '2'), removal('pupil', '3')],
      new Set(['pupil', 'staff']),
    );
    expect(summary(merged)).toEqual(['pupil:removed:2', 'pupil:removed:3']);
  });

  it('keeps earlier items of types the run could not judge (absent or unidentifiable dataset)', () => {
    const merged = mergeBatchItems(earlier, [removal('pupil', '1')], new Set(['pupil']));
    expect(summary(merged)).toEqual(['pupil:removed:1', 'staff:removed:9']);
  });

  it('drops earlier items of an unjudged type whose entity the run sent (it is in the feed)', () => {
    const merged = mergeBatchItems(earlier, [], new Set(['pupil']), new Set(['staff/9' as const]));
    expect(summary(merged)).toEqual([]);
    const kept = mergeBatchItems(earlier, [], new Set(['pupil']), new Set(['staff/8' as const]));
    expect(summary(kept)).toEqual(['staff:removed:9']);
  });

  it('is idempotent: merging the same run again gives the same items and fingerprint', () => {
    const run = [removal('pupil', '2'), removal('pupil', '4')];
    const judged = new Set<RosterEntityType>(['pupil']);
    const once = mergeBatchItems(earlier, run, judged);
    const twice = mergeBatchItems(once, run, judged);
    expect(summary(twice)).toEqual(summary(once));
    expect(itemsFingerprint(twice)).toBe(itemsFingerprint(once));
    expect(itemsFingerprint([...once].reverse())).toBe(itemsFingerprint(once));
    expect(itemsFingerprint(earlier)).not.toBe(itemsFingerprint(once));
  });
});

describe('a discard holds until the data changes (DiscardMemory)', () => {
  const entry = (c: PlannedChange) => ({
    entityType: c.entityType,
    entityId: c.entityId,
    change: c.change,
    hash: contentHash(c),
    batchId: 'held-r2',
    discardedAt: '2026-11-01T10:00:00.000Z',
  });

  it('covers the same change with the same content only', () => {
    const memory = new DiscardMemory([entry(removal('pupil', '1'))]);
    expect(memory.covering(removal('pupil', '1'))).toBeDefined();
    expect(memory.covering(removal('pupil', '1', 'Married'))).toBeUndefined();
    expect(memory.covering(removal('pupil', '2'))).toBeUndefined();
    expect(
      memory.covering({
        entityType: 'pupil',
        entityId: '1',
        change: 'updated',
        after: { id: '1', surname: 'S1' },
      }),
    ).toBeUndefined();
  });

  it('forgets entries whose person came back or changed, keeps those of types the run could not judge', () => {
    const a = entry(removal('pupil', '1'));
    const b = entry(removal('pupil', '2'));
    const c = entry(removal('staff', '9'));
    const memory = new DiscardMemory([a, b, c]);
    expect(memory.keptAfter([a], new Set(['pupil']))).toEqual([a, c]);
  });
});

describe('guard: removals of the pending batch stay held', () => {
  const input = (
    changes: PlannedChange[],
    extra: Parameters<typeof guard>[0] extends infer I ? Partial<I> : never,
  ) =>
    guard({
      changes,
      activeCounts: { pupil: 40 },
      thresholds: DEFAULT_THRESHOLDS,
      datasetRecordCounts: { currentPupils: 35 },
      stored: pupils(40),
      ...extra,
    });

  it('holds them even when this run alone would not (5 of 40 is not more than 5); a new removal applies', () => {
    const changes = ['1', '2', '3', '4', '7'].map((id) => removal('pupil', id));
    const pendingHeld = new Map(['1', '2', '3', '4'].map((id) => [`pupil/${id}`, 'threshold' as const]));
    const g = input(changes, { pendingHeld });
    expect(summary(g.held)).toEqual(['1', '2', '3', '4'].map((id) => `pupil:removed:${id}`));
    expect(summary(g.apply)).toEqual(['pupil:removed:7']);
    expect(g.heldTypes).toEqual({ pupil: 'threshold' });
    expect(g.hold?.reason).toContain('4 pupils still await the decision on the pending batch');
  });

  it('without a pending batch the same run applies every removal', () => {
    const changes = ['1', '2', '3', '4', '5'].map((id) => removal('pupil', id));
    expect(input(changes, {}).held).toEqual([]);
  });
});
