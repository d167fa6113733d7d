import { describe, expect, it } from 'vitest';
import type { RosterEntityType } from '@isams-sync/events';
import type { PlannedChange, StoredByType, StoredEntity } from '../../src/domain/diff';
import { releaseHeld } from '../../src/domain/held-release';
import type { RosterEntity } from '../../src/domain/roster-model';

const stored = (list: (Partial<StoredEntity> & { data: RosterEntity; entityType: RosterEntityType })[]) => {
  const out: StoredByType = {};
  for (const s of list)
    (out[s.entityType] ??= new Map()).set(s.data.id, {
      id: s.data.id,
      status: 'active',
      ...s,
    } as StoredEntity);
  return out;
};
const summary = (cs: PlannedChange[]) => cs.map((c) => `${c.entityType}:${c.change}:${c.entityId}`);

describe('releasing a held batch: each held change is applied against the roster as it is now', () => {
  const held: PlannedChange[] = [
    { entityType: 'pupil', entityId: '1', change: 'added', after: { id: '1', surname: 'New' } },
    {
      entityType: 'pupil',
      entityId: '2',
      change: 'restored',
      before: { id: '2' },
      after: { id: '2', surname: 'B' },
    },
    {
      entityType: 'pupil',
      entityId: '3',
      change: 'updated',
      before: { id: '3', surname: 'C' },
      after: { id: '3', surname: 'Other' },
    },
    { entityType: 'pupil', entityId: '4', change: 'removed', before: { id: '4', surname: 'D' } },
  ];

  it('applies additions, restores, updates and removals still due, in the held order', () => {
    const now = stored([
      { entityType: 'pupil', data: { id: '2', surname: 'B0' }, status: 'removed' },
      { entityType: 'pupil', data: { id: '3', surname: 'C' } },
      { entityType: 'pupil', data: { id: '4', surname: 'D' } },
    ]);
    const released = releaseHeld(held, now);
    expect(summary(released)).toEqual([
      'pupil:added:1',
      'pupil:restored:2',
      'pupil:updated:3',
      'pupil:removed:4',
    ]);
    expect(released[1]).toMatchObject({ before: { surname: 'B0' }, changedFields: ['surname'] });
    expect(released[2]).toMatchObject({ before: { surname: 'C' }, after: { surname: 'Other' } });
    expect(released[3]).toMatchObject({ before: { id: '4', surname: 'D' } });
  });

  it('skips what is already so: a removal of an entity no longer active, an image already equal', () => {
    const now = stored([
      { entityType: 'pupil', data: { id: '1', surname: 'New' } },
      { entityType: 'pupil', data: { id: '3', surname: 'Other' } },
      { entityType: 'pupil', data: { id: '4', surname: 'D' }, status: 'removed' },
    ]);
    expect(summary(releaseHeld(held, now))).toEqual(['pupil:added:2']);
  });

  it('a person purged since is added again, not restored', () => {
    const now = stored([{ entityType: 'pupil', data: { id: '2' }, status: 'removed', purged: true }]);
    expect(summary(releaseHeld([held[1]!], now))).toEqual(['pupil:added:2']);
  });
});
