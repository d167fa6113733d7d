import { describe, expect, it } from 'vitest';
import type { RosterChangeData, RosterEntityState } from '@isams-sync/events';
import { isNewer, RosterCopy } from './roster-copy';

const T = 'school-1';
const rev = (changeset: number, change: number) => ({ changeset, change });
const state = (over: Partial<RosterEntityState>): RosterEntityState => ({
  entityType: 'pupil',
  entityId: '7',
  status: 'active',
  data: { id: '7', surname: 'A' },
  lastChangeId: 'r1#0',
  revision: rev(1, 0),
  ...over,
});
const change = (over: Partial<RosterChangeData>): RosterChangeData => ({
  syncRunId: 'r2',
  entityType: 'pupil',
  entityId: '7',
  change: 'updated',
  before: { id: '7', surname: 'A' },
  after: { id: '7', surname: 'B' },
  revision: rev(2, 3),
  ...over,
});
const surnames = (c: RosterCopy) => c.list(T).map((e) => `${e.status}:${String(e.data.surname)}`);

describe('reference subscriber: the roster copy', () => {
  it('orders revisions by changeset number, then position; unknown revisions always apply', () => {
    expect(isNewer(rev(2, 0), rev(1, 9))).toBe(true);
    expect(isNewer(rev(2, 4), rev(2, 3))).toBe(true);
    expect(isNewer(rev(2, 3), rev(2, 3))).toBe(false);
    expect(isNewer(rev(1, 9), rev(2, 0))).toBe(false);
    expect(isNewer(undefined, rev(2, 0))).toBe(true);
    expect(isNewer(rev(1, 0), undefined)).toBe(true);
  });

  it('a change already in the snapshot is skipped, a newer one applies, a re-delivery is a duplicate', () => {
    const copy = new RosterCopy();
    copy.loadState(T, state({ data: { id: '7', surname: 'B' }, revision: rev(2, 3) }));
    expect(copy.applyChange(T, 'e-old', change({ revision: rev(1, 0), change: 'added' }))).toBe('stale');
    expect(copy.applyChange(T, 'e-same', change({ revision: rev(2, 3) }))).toBe('stale');
    expect(surnames(copy)).toEqual(['active:B']);
    const later = change({
      before: { id: '7', surname: 'B' },
      after: { id: '7', surname: 'C' },
      revision: rev(3, 0),
    });
    expect(copy.applyChange(T, 'e-new', later)).toBe('applied');
    expect(copy.applyChange(T, 'e-new', later)).toBe('duplicate');
    expect(surnames(copy)).toEqual(['active:C']);
  });

  it('a removal keeps the image until the grace period ends, then the copy forgets the person', () => {
    const copy = new RosterCopy();
    copy.loadState(T, state({}));
    const removed = change({
      change: 'removed',
      after: undefined,
      removal: { reason: 'absent_from_feed', graceUntil: '2026-12-17T10:00:00.000Z' },
    });
    expect(copy.applyChange(T, 'e-rm', removed)).toBe('applied');
    expect(surnames(copy)).toEqual(['removed:A']);
    expect(copy.purgeExpired(new Date('2026-12-17T09:59:59.000Z'))).toBe(0);
    expect(copy.purgeExpired(new Date('2026-12-17T10:00:00.000Z'))).toBe(1);
    expect(copy.list(T)).toEqual([]);
    // A late replay of an older change does not bring the personal data back; a re-addition does.
    expect(copy.applyChange(T, 'e-old', change({ change: 'added', revision: rev(1, 0) }))).toBe('stale');
    expect(copy.list(T)).toEqual([]);
    expect(copy.applyChange(T, 'e-back', change({ change: 'added', revision: rev(5, 1) }))).toBe('applied');
    expect(surnames(copy)).toEqual(['active:B']);
  });

  it('only people are forgotten after the grace period, as the roster purges only people', () => {
    const copy = new RosterCopy();
    const removal = { reason: 'absent_from_feed' as const, graceUntil: '2026-12-17T10:00:00.000Z' };
    for (const entityType of ['staff', 'contact', 'setMembership', 'customGroupMembership'] as const)
      copy.applyChange(
        T,
        `rm-${entityType}`,
        change({ entityType, change: 'removed', after: undefined, removal }),
      );
    expect(copy.purgeExpired(new Date('2026-12-18T00:00:00.000Z'))).toBe(2);
    expect(copy.list(T).map((e) => `${e.entityType}:${e.status}`)).toEqual([
      'customGroupMembership:removed',
      'setMembership:removed',
    ]);
  });

  it('purged records and tombstones of the state topic forget the key; other schools are apart', () => {
    const copy = new RosterCopy();
    copy.loadState(T, state({}));
    copy.loadState('school-2', state({}));
    copy.loadState(T, state({ status: 'purged', data: undefined, revision: rev(4, 0) }));
    expect(copy.list(T)).toEqual([]);
    expect(copy.list('school-2')).toHaveLength(1);
    copy.loadTombstone('school-2/pupil/7');
    expect(copy.list('school-2')).toEqual([]);
    expect(copy.applyChange(T, 'e-rm', change({ change: 'removed', revision: rev(4, 0) }))).toBe('stale');
  });
});
