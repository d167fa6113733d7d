import { describe, expect, it } from 'vitest';
import { ROSTER_ENTITY_TYPES } from '@isams-sync/events';
import type { RosterEntityType } from '@isams-sync/events';
import type { RosterEntity } from '../../src/domain/roster-model';
import { IDENTITY_RULES, checkSchoolIdentity, samePerson } from '../../src/domain/school-identity';
import { entitiesByType as byType, storedByType as storedOf } from '../support/entities-by-type';
import type { EntityLists } from '../support/entities-by-type';

/** A pupil of school `school` (ids are per school: two schools' pupil 700 are different people). */
const pupilOf = (school: string, id: number): RosterEntity => ({
  id: String(id),
  forename: `Ann${school}${id}`,
  surname: `Smith${school}${id % 97}`,
  dob: school === 'A' ? `2010-0${1 + (id % 9)}-1${id % 10}` : `2011-0${1 + (id % 9)}-2${id % 8}`,
  personGuid: `${school.toLowerCase()}-guid-${id}`,
  schoolId: `${school === 'A' ? 1 : 2}0000${id}`,
});
const staffOf = (school: string, id: number): RosterEntity => ({
  id: String(id),
  forename: `Tom${school}${id}`,
  surname: `Jones${school}${id}`,
  userCode: `${school}UC${id}`,
  personGuid: `${school.toLowerCase()}-staff-${id}`,
});
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

const everyType = new Set(ROSTER_ENTITY_TYPES);

/** The identity check of `incoming` (every type present) against the roster `stored`. */
const judge = (stored: EntityLists, incoming: EntityLists) =>
  checkSchoolIdentity({ stored: storedOf(stored), incoming: byType(incoming), presentTypes: everyType });

/** School A as stored: `pupils` pupils from id 700, `staff` staff from id 10. */
const schoolA = (pupils = 1199, staff = 180) => ({
  pupil: range(700, pupils).map((i) => pupilOf('A', i)),
  staff: range(10, staff).map((i) => staffOf('A', i)),
});

describe('school identity: a different school under the same key is recognised before anything is applied', () => {
  it('first sync: nothing is stored, nothing to compare — applied', () => {
    const r = checkSchoolIdentity({ stored: {}, incoming: byType(schoolA()), presentTypes: everyType });
    expect(r.verdict).toBe('first_sync');
    expect(r.reason).toBe('Nothing to compare: the roster is empty (first sync).');
  });

  it('the same document again is the same school', () => {
    const a = schoolA();
    const r = judge(a, a);
    expect(r.verdict).toBe('same_school');
    expect(r.people.find((p) => p.entityType === 'pupil')).toEqual({
      entityType: 'pupil',
      known: 1199,
      inDocument: 1199,
      matched: 1199,
      differentPerson: 0,
      unknown: 0,
      missing: 0,
    });
  });

  it('September: a 35 % new intake, 15 % leavers and a few name changes is the same school', () => {
    const stored = schoolA(1000, 100);
    const stay = stored.pupil.slice(150); // 150 leavers (15 %)
    const renamed = stay.slice(0, 4).map((p) => ({ ...p, surname: 'Married' })); // marriages, corrections
    const intake = range(5000, 458).map((i) => pupilOf('A', i)); // 458 of 1308 in the document = 35 %
    const incoming = { pupil: [...renamed, ...stay.slice(4), ...intake], staff: stored.staff };
    const r = judge(stored, incoming);
    expect(r.verdict).toBe('same_school');
    expect(r.people.find((p) => p.entityType === 'pupil')).toMatchObject({
      matched: 850,
      differentPerson: 0,
      unknown: 458,
      missing: 150,
    });
    expect(r.signals).toEqual([]);
  });

  it('a sixth-form college at roll-over (half leave, as many join) is the same school', () => {
    const stored = schoolA(400, 40);
    const incoming = {
      pupil: [...stored.pupil.slice(200), ...range(5000, 200).map((i) => pupilOf('A', i))],
      staff: stored.staff,
    };
    const r = judge(stored, incoming);
    expect(r.verdict).toBe('same_school');
  });

  it('another school numbering its people from the same ids is a different school, and says so in plain words', () => {
    const stored = schoolA();
    // The other school: same ids, other people; 49 of its pupils happen to match ours (name or date of birth).
    const other = {
      pupil: range(700, 1199).map((i) => (i < 749 ? pupilOf('A', i) : pupilOf('B', i))),
      staff: range(10, 180).map((i) => staffOf('B', i)),
    };
    const r = judge(stored, other);
    expect(r.verdict).toBe('different_school');
    expect(r.signals.map((s) => `${s.code}:${s.entityType ?? ''}`)).toEqual([
      'different_people:pupil',
      'different_people:staff',
    ]);
    expect(r.reason).toBe(
      'This document looks like a different school: 1,150 of 1,199 known pupils now have a different name and date of birth; ' +
        '180 of 180 known staff now have a different name and identifiers. ' +
        'Nothing from it has been applied.',
    );
  });

  it('another school with ids of its own (most ids unknown, most known people missing) is a different school', () => {
    const stored = schoolA(300, 40);
    const other = { pupil: range(9000, 280).map((i) => pupilOf('B', i)), staff: stored.staff };
    const r = judge(stored, other);
    expect(r.verdict).toBe('different_school');
    expect(r.signals.map((s) => s.code)).toEqual(['unknown_people']);
    expect(r.reason).toContain(
      '280 of 280 pupils in the document are unknown here and 300 of 300 known pupils are missing from it',
    );
  });
});

describe('school identity: the boundaries of each rule', () => {
  const withDifferent = (matched: number, different: number) => {
    const stored = { pupil: range(1, matched).map((i) => pupilOf('A', i)) };
    const incoming = {
      pupil: range(1, matched).map((i) => (i <= different ? pupilOf('B', i) : pupilOf('A', i))),
    };
    return judge(stored, incoming);
  };

  it('different people: more than half of the known ids in the document must carry another person', () => {
    expect(IDENTITY_RULES.differentPeopleShare).toBe(0.5);
    expect(withDifferent(20, 10).verdict).toBe('same_school');
    expect(withDifferent(20, 11).verdict).toBe('different_school');
  });

  it(`small datasets: fewer than ${IDENTITY_RULES.minComparable} comparable people are not judged`, () => {
    expect(IDENTITY_RULES.minComparable).toBe(10);
    const nine = withDifferent(9, 9);
    expect(nine.verdict).toBe('not_judged');
    expect(nine.reason).toBe(
      'Too few known pupils and staff to compare (fewer than 10); the document is treated as the same school.',
    );
    expect(withDifferent(10, 10).verdict).toBe('different_school');
  });

  const withUnknown = (known: number, inDocument: number, kept: number) => {
    const stored = { pupil: range(1, known).map((i) => pupilOf('A', i)) };
    const incoming = {
      pupil: [
        ...range(1, kept).map((i) => pupilOf('A', i)),
        ...range(5000, inDocument - kept).map((i) => pupilOf('A', i)),
      ],
    };
    return judge(stored, incoming);
  };

  it('unknown people: more than three quarters of the document unknown AND of the known people missing', () => {
    expect(IDENTITY_RULES.unknownPeopleShare).toBe(0.75);
    // 25 of 100 kept: 75 % unknown, 75 % missing — not more than three quarters
    expect(withUnknown(100, 100, 25).verdict).toBe('same_school');
    // 24 kept: 76 % unknown and 76 % missing
    expect(withUnknown(100, 100, 24).verdict).toBe('different_school');
    // a truncated document (few people, all known) is not an identity question: the removal guard holds it
    expect(withUnknown(100, 10, 10).verdict).toBe('same_school');
    // a school that grew fourfold keeps its known people: not a different school
    expect(withUnknown(100, 500, 100).verdict).toBe('same_school');
  });

  it('a dataset absent from the document is not compared', () => {
    const stored = schoolA(300, 40);
    const r = checkSchoolIdentity({
      stored: storedOf(stored),
      incoming: byType({ staff: stored.staff }),
      presentTypes: new Set<RosterEntityType>(['staff']),
    });
    expect(r.verdict).toBe('same_school');
    expect(r.people.map((p) => p.entityType)).toEqual(['staff']);
  });
});

describe("school identity: the school's own structure (houses, divisions, departments)", () => {
  it("the school's own structure: most known houses, divisions and departments renamed is a different school", () => {
    const structure = (names: string[]) => ({
      academicHouse: names.slice(0, 3).map((name, i) => ({ id: String(i + 1), name })),
      division: names.slice(3, 5).map((name, i) => ({ id: String(i + 1), name })),
      department: names.slice(5).map((name, i) => ({ id: String(i + 1), name })),
    });
    const ours = structure(['Kestrel', 'Falcon', 'Merlin', 'Prep', 'Senior', 'Art', 'Biology']);
    const renamedFew = structure([
      'Kestrel',
      'Falcon',
      'Osprey',
      'Prep',
      'Senior',
      'Art',
      'Biology and Life',
    ]);
    const theirs = structure(['North', 'South', 'East', 'Lower', 'Upper', 'Music', 'Biology']);
    const check = (incoming: typeof ours) => judge(ours, incoming);
    expect(check(renamedFew).verdict).toBe('same_school');
    const r = check(theirs);
    expect(r.verdict).toBe('different_school');
    expect(r.reason).toContain('6 of 7 known houses, divisions and departments now have a different name');
  });
});

describe('school identity: partially read people are compared with the values they keep', () => {
  it('staff whose surname and user code could not be read this run (kept from the stored image) are the same school', () => {
    const stored = schoolA(0, 12);
    // the reader left the unreadable fields out (e.g. invalid UTF-8 in the surname); the diff keeps the stored ones
    const incoming = stored.staff.map(({ surname: _s, userCode: _u, personGuid: _g, ...rest }) => rest);
    const keepStored = new Map(incoming.map((e) => [e.id, ['surname', 'userCode', 'personGuid']]));
    const r = checkSchoolIdentity({
      stored: storedOf(stored),
      incoming: byType({ staff: incoming }),
      presentTypes: everyType,
      partial: { keepStored: { staff: keepStored } },
    });
    expect(r.people.find((p) => p.entityType === 'staff')).toMatchObject({ matched: 12, differentPerson: 0 });
    expect(r.verdict).toBe('same_school');
  });
});

describe('samePerson: who is still the same person under an id', () => {
  const ann = { id: '1', forename: 'Ann', surname: 'Smith', dob: '2012-03-04', personGuid: 'g1' };
  it('a marriage or a name correction keeps the person (date of birth or an identifier still matches)', () => {
    expect(samePerson('pupil', ann, { ...ann, surname: 'Jones' })).toBe('same');
    expect(samePerson('pupil', ann, { ...ann, forename: 'Anne', surname: 'Smyth', dob: '2012-04-03' })).toBe(
      'same',
    );
    expect(samePerson('pupil', ann, { ...ann, forename: ' ANN ' })).toBe('same');
  });
  it('another name and another date of birth (and no identifier in common) is another person', () => {
    expect(
      samePerson('pupil', ann, {
        id: '1',
        forename: 'Bo',
        surname: 'Li',
        dob: '2011-01-01',
        personGuid: 'g9',
      }),
    ).toBe('different');
    expect(samePerson('staff', { id: '1', surname: 'A' }, { id: '1', surname: 'B' })).toBe('different');
  });
  it('nothing comparable is not judged', () => {
    expect(samePerson('pupil', { id: '1' }, { id: '1', surname: 'B' })).toBe('unknown');
  });
});
