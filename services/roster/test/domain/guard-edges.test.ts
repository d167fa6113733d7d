import { describe, expect, it } from 'vitest';
import { ROSTER_ENTITY_TYPES } from '@isams-sync/events';
import { diff } from '../../src/domain/diff';
import type { StoredByType } from '../../src/domain/diff';
import { guard } from '../../src/domain/guard';
import type { RemovalThresholds } from '../../src/domain/guard';
import type { RosterEntity } from '../../src/domain/roster-model';
import { entitiesByType, storedByType } from '../support/entities-by-type';

// The removal thresholds at their edges (SetRemovalThresholds accepts 0–100 % and any minimum ≥ 0).

const pupils = (ids: number[]): RosterEntity[] => ids.map((i) => ({ id: String(i), surname: `S${i}` }));
const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

/** The guard of a run that sends `sent` of the `stored` pupils (its pupils dataset has `sent.length` records). */
function guardRun(storedIds: number[], sent: number[], thresholds: RemovalThresholds) {
  const stored: StoredByType = storedByType({ pupil: pupils(storedIds) });
  const changes = diff(stored, entitiesByType({ pupil: pupils(sent) }), new Set(ROSTER_ENTITY_TYPES));
  return guard({
    changes,
    activeCounts: { pupil: storedIds.length },
    thresholds,
    datasetRecordCounts: { currentPupils: sent.length },
    stored,
  });
}

describe('removal thresholds at their edges', () => {
  it('100 % and a minimum no school reaches never loosen the hold of a dataset that arrived empty', () => {
    const g = guardRun(range(3000), [], { default: { percent: 100, min: 1_000_000 } });
    expect(g.apply).toEqual([]);
    expect(g.held).toHaveLength(3000);
    expect(g.heldTypes).toEqual({ pupil: 'empty_dataset' });
  });

  it('100 % never holds by count: a dataset of one record after 3,000 removes 2,999 (the admin chose it)', () => {
    const g = guardRun(range(3000), [1], { default: { percent: 100, min: 0 } });
    expect(g.held).toEqual([]);
    expect(g.apply).toHaveLength(2999);
  });

  it('0 % and a minimum of 0 hold one removal, even of the one pupil of a tiny school', () => {
    const g = guardRun([1, 2], [2], { default: { percent: 0, min: 0 } });
    expect(g.apply).toEqual([]);
    expect(g.held.map((c) => `${c.change}:${c.entityId}`)).toEqual(['removed:1']);
    expect(g.heldTypes).toEqual({ pupil: 'threshold' });
  });

  it('the one pupil of a school, sent in an empty list, is held whatever the thresholds', () => {
    const g = guardRun([1], [], { default: { percent: 100, min: 1_000_000 } });
    expect(g.held.map((c) => c.entityId)).toEqual(['1']);
    expect(g.heldTypes).toEqual({ pupil: 'empty_dataset' });
  });
});
