import { describe, expect, it } from 'vitest';
import { ROSTER_ENTITY_TYPES } from '@isams-sync/events';
import type { RosterEntityType } from '@isams-sync/events';
import { countChanges } from '../../src/domain/change-counts';
import { diff } from '../../src/domain/diff';
import type { PlannedChange } from '../../src/domain/diff';
import { DEFAULT_THRESHOLDS, guard } from '../../src/domain/guard';
import type { GuardInput } from '../../src/domain/guard';
import type { RosterEntity } from '../../src/domain/roster-model';
import type { SchoolIdentityResult } from '../../src/domain/school-identity';
import { entitiesByType as entitiesOf, storedByType as storedOf } from '../support/entities-by-type';

type School = Partial<Record<RosterEntityType, RosterEntity[]>>;
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => String(from + i));

/**
 * 20 staff, 100 pupils (tutor = staff 1 + id % 20), one contact per pupil (`c<id>`), a contact of
 * pupils 1 and 99 (`shared`), a set taught by staff 1 (primary) and 2 with every pupil in it, a
 * custom group owned by staff 3 with pupils 1–10, a form, a house and a year group run by staff 1.
 */
function school(): School {
  const pupil = (id: string): RosterEntity => ({
    id,
    forename: `P${id}`,
    surname: `Q${id}`,
    tutorStaffId: String(1 + (Number(id) % 20)),
  });
  const link = (pupilId: string) => ({ pupilId, status: 'Current' });
  return {
    staff: range(1, 20).map((id) => ({ id, forename: `S${id}`, surname: `T${id}` })),
    pupil: range(1, 100).map(pupil),
    contact: [
      ...range(1, 100).map((id) => ({ id: `c${id}`, surname: `Q${id}`, pupils: [link(id)] })),
      { id: 'shared', surname: 'Both', telephone: '1', pupils: [link('1'), link('99')] },
    ],
    form: [{ id: '9A', name: '9A', tutorStaffId: '1' }],
    yearGroup: [{ id: '9', name: 'Year 9', tutorStaffId: '1' }],
    academicHouse: [{ id: '1', name: 'Kestrel', houseMasterStaffId: '1' }],
    boardingHouse: [{ id: '5', name: 'Lodge', houseMasterStaffId: '2', assistantHouseMasterStaffId: '3' }],
    teachingSet: [
      {
        id: '70',
        name: '9/Ma1',
        teachers: [
          { staffId: '1', primary: true },
          { staffId: '2', primary: false },
        ],
        primaryTeacherStaffId: '1',
      },
    ],
    setMembership: range(1, 100).map((p) => ({ id: `70:${p}`, setId: '70', pupilId: p })),
    customGroup: [{ id: '40', name: 'Choir', ownerStaffId: '3' }],
    customGroupMembership: range(1, 10).map((p) => ({ id: `40:${p}`, customGroupId: '40', pupilId: p })),
  };
}

/**
 * People and sets have the default threshold (10 % and 5); the dependent types are never held by a
 * threshold of their own here, so what holds them is the dependent rule alone.
 */
const never = { percent: 100, min: 100_000 };
const thresholds = {
  default: DEFAULT_THRESHOLDS.default,
  byType: { contact: never, setMembership: never, customGroup: never, customGroupMembership: never },
};

/** Runs diff + guard of `next` against the stored `before` school. */
function run(before: School, next: School, extra: Partial<GuardInput> = {}) {
  const stored = storedOf(before);
  const changes = diff(stored, entitiesOf(next), new Set(ROSTER_ENTITY_TYPES));
  const activeCounts = Object.fromEntries(Object.entries(before).map(([t, es]) => [t, es.length]));
  return {
    changes,
    g: guard({
      changes,
      activeCounts,
      thresholds,
      datasetRecordCounts: {},
      stored,
      ...extra,
    }),
  };
}
/** Ids of the changes of one type (and change), sorted as strings. */
const ids = (cs: readonly PlannedChange[], t: RosterEntityType, change?: string) =>
  cs
    .filter((c) => c.entityType === t && (change === undefined || c.change === change))
    .map((c) => c.entityId)
    .sort();
const sorted = (list: string[]) => [...list].sort();
const without = (s: School, t: RosterEntityType, gone: string[]) => ({
  ...s,
  [t]: (s[t] ?? []).filter((e) => !gone.includes(e.id)),
});

describe('dependents are held with the pupil whose removal is held', () => {
  // 20 of 100 pupils leave (20 %: held); with them their contacts, set and group memberships.
  const leavers = range(1, 20);
  const leaving = (s: School): School => {
    let next = without(s, 'pupil', leavers);
    next = without(
      next,
      'contact',
      leavers.map((p) => `c${p}`),
    );
    next = without(
      next,
      'setMembership',
      leavers.map((p) => `70:${p}`),
    );
    next = without(
      next,
      'customGroupMembership',
      leavers.map((p) => `40:${p}`),
    );
    return next;
  };

  it('set memberships of a held pupil are held with it', () => {
    const { g } = run(school(), leaving(school()));
    expect(ids(g.held, 'pupil')).toEqual(sorted(leavers));
    expect(ids(g.held, 'setMembership')).toEqual(sorted(leavers.map((p) => `70:${p}`)));
    expect(ids(g.apply, 'setMembership')).toEqual([]);
    expect(g.heldTypes).toMatchObject({ pupil: 'threshold', setMembership: 'dependent' });
  });

  it('custom group memberships of a held pupil are held with it', () => {
    const { g } = run(school(), leaving(school()));
    expect(ids(g.held, 'customGroupMembership')).toEqual(sorted(range(1, 10).map((p) => `40:${p}`)));
    expect(g.heldTypes.customGroupMembership).toBe('dependent');
  });

  it('contacts whose only linked pupils are held are held with them (also when the other links are to former pupils)', () => {
    const before = school();
    before.contact!.push(
      { id: 'former', surname: 'F', pupils: [{ pupilId: '3' }, { pupilId: '999', status: 'Former' }] },
      { id: 'mixed', surname: 'M', pupils: [{ pupilId: '2' }, { pupilId: '50' }] },
    );
    const next = without(leaving(before), 'contact', ['former', 'mixed']);
    const { g } = run(before, next);
    expect(ids(g.held, 'contact', 'removed')).toEqual(sorted([...leavers.map((p) => `c${p}`), 'former']));
    // 'mixed' also belongs to pupil 50, who stays: its removal is judged on its own (applied).
    expect(ids(g.apply, 'contact', 'removed')).toEqual(['mixed']);
    expect(g.heldTypes.contact).toBe('dependent');
  });

  it("a contact's link to a held pupil is kept while the pupil is held; the contact's other changes apply", () => {
    const before = school();
    const next = leaving(before);
    next.contact = next.contact!.map((c) =>
      c.id === 'shared' ? { ...c, telephone: '2', pupils: [{ pupilId: '99', status: 'Current' }] } : c,
    );
    const { g } = run(before, next);
    const applied = g.apply.find((c) => c.entityId === 'shared')!;
    expect(applied).toMatchObject({ change: 'updated', changedFields: ['telephone'] });
    expect(applied.after).toMatchObject({ telephone: '2', pupils: [{ pupilId: '1' }, { pupilId: '99' }] });
    const held = g.held.find((c) => c.entityId === 'shared')!;
    expect(held).toMatchObject({ change: 'updated', changedFields: ['pupils'] });
    expect(held.before).toEqual(applied.after);
    expect(held.after).toMatchObject({ pupils: [{ pupilId: '99' }] });
    // the decisions keep the plan's order: the applied part, then the held part
    expect(g.decisions.filter((d) => d.change.entityId === 'shared').map((d) => d.disposition)).toEqual([
      'apply',
      'held',
    ]);
  });

  it('a held teaching set holds its memberships; a held custom group holds its memberships', () => {
    const before = school();
    before.teachingSet = range(60, 79).map((id) => ({ id, name: `S${id}` }));
    before.setMembership = range(60, 79).map((s) => ({ id: `${s}:1`, setId: s, pupilId: '1' }));
    // 6 of 20 sets go (30 %: held) with their memberships
    const gone = range(60, 65);
    let next = without(before, 'teachingSet', gone);
    next = without(
      next,
      'setMembership',
      gone.map((s) => `${s}:1`),
    );
    const { g } = run(before, next);
    expect(ids(g.held, 'setMembership')).toEqual(sorted(gone.map((s) => `${s}:1`)));
    expect(g.heldTypes).toMatchObject({ teachingSet: 'threshold', setMembership: 'dependent' });
  });

  it('when the pupil removal applies (under the threshold), its dependents apply too', () => {
    const { g } = run(
      school(),
      (() => {
        const s = school();
        let next = without(s, 'pupil', ['1', '2']);
        next = without(next, 'contact', ['c1', 'c2']);
        next = without(next, 'setMembership', ['70:1', '70:2']);
        return next;
      })(),
    );
    expect(g.held).toEqual([]);
    expect(ids(g.apply, 'contact', 'removed')).toEqual(['c1', 'c2']);
  });
});

describe('dependents are held with the staff member whose removal is held', () => {
  // 6 of 20 staff leave (30 %: held). Normalisation drops links to staff not in Current Staff.
  const leavers = range(1, 6);
  const staffLeaving = (s: School): School => {
    const next = without(s, 'staff', leavers);
    const drop = (v: unknown) => (leavers.includes(String(v)) ? undefined : v);
    const strip = (e: RosterEntity, fields: string[]): RosterEntity =>
      Object.fromEntries(
        Object.entries(e).filter(([k, v]) => !fields.includes(k) || drop(v) !== undefined),
      ) as RosterEntity;
    next.pupil = next.pupil!.map((p) => strip(p, ['tutorStaffId']));
    next.form = next.form!.map((f) => strip(f, ['tutorStaffId']));
    next.yearGroup = next.yearGroup!.map((y) => strip(y, ['tutorStaffId']));
    next.academicHouse = next.academicHouse!.map((h) => strip(h, ['houseMasterStaffId']));
    next.boardingHouse = next.boardingHouse!.map((h) =>
      strip(h, ['houseMasterStaffId', 'assistantHouseMasterStaffId']),
    );
    next.customGroup = next.customGroup!.map((c) => strip(c, ['ownerStaffId']));
    next.teachingSet = next.teachingSet!.map((t) => ({
      ...strip(t, ['primaryTeacherStaffId']),
      teachers: (t.teachers as { staffId: string }[]).filter((x) => !leavers.includes(x.staffId)),
    }));
    return next;
  };

  it('a custom group owned by a held staff member is held, and its memberships with it', () => {
    const before = school();
    let next = without(staffLeaving(before), 'customGroup', ['40']);
    next = without(
      next,
      'customGroupMembership',
      range(1, 10).map((p) => `40:${p}`),
    );
    const { g } = run(before, next);
    expect(ids(g.held, 'staff')).toEqual(sorted(leavers));
    expect(ids(g.held, 'customGroup')).toEqual(['40']);
    expect(ids(g.held, 'customGroupMembership')).toEqual(sorted(range(1, 10).map((p) => `40:${p}`)));
    expect(g.heldTypes).toMatchObject({
      staff: 'threshold',
      customGroup: 'dependent',
      customGroupMembership: 'dependent',
    });
  });

  it('links to a held staff member (tutor, form and year tutors, house masters, set teachers, group owner) are kept while held', () => {
    const before = school();
    const { g } = run(before, staffLeaving(before));
    // the only change of these entities is the dropped link: nothing applies, the drop is held
    const heldUpdates = g.held.filter((c) => c.change === 'updated');
    expect(ids(heldUpdates, 'form')).toEqual(['9A']);
    expect(ids(heldUpdates, 'yearGroup')).toEqual(['9']);
    expect(ids(heldUpdates, 'academicHouse')).toEqual(['1']);
    expect(ids(heldUpdates, 'boardingHouse')).toEqual(['5']);
    expect(g.held.find((c) => c.entityType === 'boardingHouse')?.before).toMatchObject({
      houseMasterStaffId: '2',
      assistantHouseMasterStaffId: '3',
    });
    expect(ids(heldUpdates, 'teachingSet')).toEqual(['70']);
    expect(ids(heldUpdates, 'customGroup')).toEqual(['40']);
    // pupils tutored by staff 1–6 (ids ending 0–5 mod 20): 30 of them
    expect(ids(heldUpdates, 'pupil')).toHaveLength(30);
    expect(g.apply.filter((c) => c.change === 'updated')).toEqual([]);
    expect(g.heldTypes).toMatchObject({ pupil: 'dependent', form: 'dependent', teachingSet: 'dependent' });
  });

  it('a link replaced by another person is a real change and applies', () => {
    const before = school();
    const next = staffLeaving(before);
    next.form = [{ id: '9A', name: '9A', tutorStaffId: '10' }];
    const { g } = run(before, next);
    expect(g.apply.find((c) => c.entityId === '9A')).toMatchObject({
      change: 'updated',
      after: { tutorStaffId: '10' },
    });
    expect(g.held.find((c) => c.entityId === '9A')).toBeUndefined();
  });
});

describe('a different school: the whole run is held', () => {
  const differentSchool: SchoolIdentityResult = {
    verdict: 'different_school',
    people: [],
    structure: { matched: 0, renamed: 0 },
    signals: [{ code: 'different_people', entityType: 'pupil', text: '100 of 100 known pupils …' }],
    reason:
      'This document looks like a different school: 100 of 100 known pupils now have a different name and date of birth. Nothing from it has been applied.',
  };

  it('holds additions, updates and removals alike and explains why', () => {
    const before = school();
    const next = without(school(), 'pupil', ['1']);
    next.pupil!.push({ id: '500', surname: 'New' });
    next.staff = next.staff!.map((s) => ({ ...s, surname: 'Other' }));
    const { changes, g } = run(before, next, { identity: differentSchool });
    expect(g.apply).toEqual([]);
    expect(g.held).toEqual(changes);
    expect(new Set(g.held.map((c) => c.change))).toEqual(new Set(['added', 'updated', 'removed']));
    expect(g.heldTypes).toMatchObject({ pupil: 'school_identity', staff: 'school_identity' });
    expect(g.hold).toEqual({ kind: 'whole_run', reason: differentSchool.reason });
  });

  it('the same school (or nothing to compare) changes nothing of the ordinary guard', () => {
    const same = { ...differentSchool, verdict: 'same_school' as const, signals: [] };
    const { g } = run(school(), without(school(), 'pupil', ['1']), { identity: same });
    expect(g.hold).toBeUndefined();
    expect(ids(g.apply, 'pupil', 'removed')).toEqual(['1']);
  });
});

describe('counts of a held run', () => {
  it('held additions and updates are counted held, not unchanged', () => {
    const before = school();
    const next = school();
    next.pupil = next.pupil!.map((p) => (p.id === '2' ? { ...p, surname: 'X' } : p));
    next.pupil.push({ id: '500' });
    const { g } = run(before, next, {
      identity: {
        verdict: 'different_school',
        people: [],
        structure: { matched: 0, renamed: 0 },
        signals: [],
        reason: 'x',
      },
    });
    expect(countChanges(g.apply, g.held, { pupil: 101 }).pupil).toEqual({
      added: 0,
      updated: 0,
      removed: 0,
      restored: 0,
      held: 2,
      unchanged: 99,
      skipped: 0,
    });
  });
});
