import { describe, expect, it } from 'vitest';
import { ROSTER_ENTITY_TYPES } from '@isams-sync/events';
import type { RosterEntityType } from '@isams-sync/events';
import { countChanges } from '../../src/domain/change-counts';
import { canonicalJson, diff } from '../../src/domain/diff';
import type { PlannedChange, StoredByType, StoredEntity } from '../../src/domain/diff';
import { DEFAULT_THRESHOLDS, guard } from '../../src/domain/guard';
import type { RemovalThresholds } from '../../src/domain/guard';
import type { RosterEntity } from '../../src/domain/roster-model';
import { entitiesByType as incoming } from '../support/entities-by-type';

const stored = (
  entityType: RosterEntityType,
  list: (Partial<StoredEntity> & { data: RosterEntity })[],
): StoredByType => ({
  [entityType]: new Map(
    list.map((s) => [s.data.id, { entityType, id: s.data.id, status: 'active', ...s } as StoredEntity]),
  ),
});
const pupils = (n: number, from = 1): RosterEntity[] =>
  Array.from({ length: n }, (_, i) => ({ id: String(from + i), surname: `S${from + i}` }));
const allPresent = new Set(ROSTER_ENTITY_TYPES);
const summary = (cs: { entityType: string; change: string; entityId: string }[]) =>
  cs.map((c) => `${c.entityType}:${c.change}:${c.entityId}`);

describe('diff', () => {
  it('classifies added, updated (with fields), removed and restored against the stored roster', () => {
    const s = stored('pupil', [
      { data: { id: '1', surname: 'A', formId: '9A' } },
      { data: { id: '2', surname: 'B' } },
      { data: { id: '3', surname: 'C' } },
      { data: { id: '4', surname: 'D' }, status: 'removed' },
      { data: { id: '5' }, status: 'removed', purged: true },
    ]);
    const changes = diff(
      s,
      incoming({
        pupil: [
          { id: '1', surname: 'A2' },
          { id: '2', surname: 'B' },
          { id: '4', surname: 'D' },
          { id: '5', surname: 'E' },
          { id: '6', surname: 'F' },
        ],
      }),
      allPresent,
    );
    expect(summary(changes)).toEqual([
      'pupil:added:5',
      'pupil:added:6',
      'pupil:restored:4',
      'pupil:updated:1',
      'pupil:removed:3',
    ]);
    const updated = changes.find((c) => c.change === 'updated')!;
    expect(updated).toMatchObject({
      before: { id: '1', surname: 'A', formId: '9A' },
      after: { id: '1', surname: 'A2' },
      changedFields: ['formId', 'surname'],
    });
    expect(changes.find((c) => c.change === 'removed')).toMatchObject({ before: { id: '3', surname: 'C' } });
  });

  it('never removes entities of a type whose dataset is absent', () => {
    const changes = diff(
      stored('pupil', [{ data: { id: '1' } }]),
      incoming({}),
      new Set<RosterEntityType>(['staff']),
    );
    expect(changes).toEqual([]);
  });

  it('ignores key order (images compare canonically)', () => {
    expect(canonicalJson({ b: 1, a: [{ y: 2, x: 1 }] })).toBe(canonicalJson({ a: [{ x: 1, y: 2 }], b: 1 }));
    const changes = diff(
      stored('staff', [{ data: { surname: 'X', id: '1', roles: [{ name: 'T', id: '4' }] } }]),
      incoming({ staff: [{ id: '1', roles: [{ id: '4', name: 'T' }], surname: 'X' }] }),
      allPresent,
    );
    expect(changes).toEqual([]);
  });
});

describe('guard', () => {
  const storedPupils = (total: number) =>
    stored(
      'pupil',
      pupils(total).map((data) => ({ data })),
    );
  const removalsOf = (n: number, total: number) => {
    const s = stored(
      'pupil',
      pupils(total).map((data) => ({ data })),
    );
    return diff(s, incoming({ pupil: pupils(total - n, n + 1) }), allPresent);
  };
  /** The guard on `n` removals of `total` stored pupils (and `more` changes), the feed carrying `records` pupils. */
  const guardPupilRemovals = (
    n: number,
    total: number,
    records: number,
    options: { thresholds?: RemovalThresholds; more?: PlannedChange[] } = {},
  ) =>
    guard({
      changes: [...removalsOf(n, total), ...(options.more ?? [])],
      activeCounts: { pupil: total },
      stored: storedPupils(total),
      thresholds: options.thresholds ?? DEFAULT_THRESHOLDS,
      datasetRecordCounts: { currentPupils: records },
    });

  it('applies removals at or under the threshold (10 % and more than 5 both needed)', () => {
    // 5 of 20 = 25 % but not more than 5 records: applies
    let g = guardPupilRemovals(5, 20, 15);
    expect(g.held).toEqual([]);
    expect(g.apply).toHaveLength(5);
    // 10 of 100 = 10 %, not more than 10 %: applies
    g = guardPupilRemovals(10, 100, 90);
    expect(g.held).toEqual([]);
  });

  it('holds removals above the threshold while additions and updates apply', () => {
    const g = guardPupilRemovals(11, 100, 90, {
      more: [{ entityType: 'pupil', entityId: '500', change: 'added', after: { id: '500' } }],
    });
    expect(g.held).toHaveLength(11);
    expect(g.apply.map((c) => c.change)).toEqual(['added']);
    expect(g.heldTypes).toEqual({ pupil: 'threshold' });
    expect(g.hold).toEqual({
      kind: 'removals',
      reason:
        'Removals held for review: 11 of 100 pupils would be removed (more than 10 % and more than 5). Additions and updates were applied.',
    });
  });

  it('uses per-type thresholds', () => {
    const g = guardPupilRemovals(11, 100, 89, {
      thresholds: { default: DEFAULT_THRESHOLDS.default, byType: { pupil: { percent: 50, min: 5 } } },
    });
    expect(g.held).toEqual([]);
  });

  it('holds every removal of a type whose dataset arrived empty although the store was not', () => {
    const g = guardPupilRemovals(3, 3, 0);
    expect(g.held).toHaveLength(3);
    expect(g.heldTypes).toEqual({ pupil: 'empty_dataset' });
  });

  it('holds memberships of pupils whose removal is held', () => {
    const pupilRemovals = removalsOf(20, 100);
    const memberships = [
      {
        entityType: 'setMembership' as const,
        entityId: '70:1',
        change: 'removed' as const,
        before: { id: '70:1', setId: '70', pupilId: '1' },
      },
      {
        entityType: 'setMembership' as const,
        entityId: '70:200',
        change: 'removed' as const,
        before: { id: '70:200', setId: '70', pupilId: '200' },
      },
    ];
    const g = guard({
      changes: [...pupilRemovals, ...memberships],
      activeCounts: { pupil: 100, setMembership: 1000 },
      stored: storedPupils(100),
      thresholds: DEFAULT_THRESHOLDS,
      datasetRecordCounts: { currentPupils: 80, teachingSetLists: 998 },
    });
    expect(g.held.filter((c) => c.entityType === 'setMembership').map((c) => c.entityId)).toEqual(['70:1']);
    expect(g.apply.map((c) => c.entityId)).toEqual(['70:200']);
    expect(g.heldTypes).toEqual({ pupil: 'threshold', setMembership: 'dependent' });
  });
});

describe('countChanges', () => {
  it('counts applied changes, held removals and unchanged per entity type', () => {
    const changes = diff(
      stored(
        'pupil',
        pupils(3).map((data) => ({ data })),
      ),
      incoming({ pupil: [{ id: '1', surname: 'S1' }, { id: '2', surname: 'new' }, { id: '9' }] }),
      allPresent,
    );
    const removed = changes.filter((c) => c.change === 'removed');
    const counts = countChanges(
      changes.filter((c) => c.change !== 'removed'),
      removed,
      { pupil: 3 },
    );
    expect(counts).toEqual({
      pupil: { added: 1, updated: 1, removed: 0, restored: 0, held: 1, unchanged: 1, skipped: 0 },
    });
  });
  it('counts the records normalisation did not import as skipped, also of a type with no change', () => {
    const counts = countChanges([], [], { pupil: 3 }, { pupil: 2, customGroup: 1 });
    expect(counts.pupil).toMatchObject({ unchanged: 3, skipped: 2 });
    expect(counts.customGroup).toMatchObject({ added: 0, held: 0, unchanged: 0, skipped: 1 });
  });
});
