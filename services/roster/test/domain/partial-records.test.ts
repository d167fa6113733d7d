import { describe, expect, it } from 'vitest';
import type { RosterEntityType } from '@isams-sync/events';
import type { RawElement } from '@isams-sync/isams';
import { canonicalJson, diff } from '../../src/domain/diff';
import type { StoredByType } from '../../src/domain/diff';
import { itemField, keepStoredFields } from '../../src/domain/keep-stored';
import { normalise } from '../../src/domain/normalise';
import type { RawSnapshot } from '../../src/domain/normalise';
import type { JsonValue, RosterEntity } from '../../src/domain/roster-model';
import {
  contact,
  department,
  division,
  el,
  group,
  groupMember,
  house,
  pupil,
  set,
  setList,
  smallSchool,
  staff,
} from '../support/raw';
import { storedOf } from '../support/stored-roster';

/**
 * Issue #14 item 1: a record the reader cannot fully read must keep its entity. It appears in the
 * snapshot (so it is not removed), its readable fields are updated and its unreadable fields keep
 * their stored values; a dataset with a record whose identity cannot be read removes nothing of its
 * type in that run.
 */

const asOf = new Date('2026-01-10T00:00:00Z');
type School = Record<string, RawElement[]>;
const t = (name: string, value: string): RawElement => el(name, {}, value);

/** The small school, with roles on staff 2 (so a broken Role list has something to keep). */
function school(): School {
  const s = smallSchool();
  s.currentStaff![1] = staff('2', 'UC2', [
    el('Roles', {}, [
      el('Role', { Id: '4' }, [t('Name', 'Teacher - Maths')]),
      el('Role', { Id: '9' }, [t('Name', 'Form Tutor')]),
    ]),
  ]);
  return s;
}

const fallbackOf = (stored: StoredByType): RawSnapshot['fallback'] =>
  Object.fromEntries(
    Object.entries(stored).map(([type, m]) => [type, new Map([...m.values()].map((e) => [e.id, e.data]))]),
  );

/** Normalises `next` against the stored result of `first` and diffs them, as the processor does. */
function run(first: School, next: School) {
  const stored = storedOf(normalise({ datasets: first, asOf }).entities);
  const n = normalise({ datasets: next, asOf, fallback: fallbackOf(stored) });
  const changes = diff(stored, n.entities, n.presentTypes, n);
  return { stored, n, changes };
}
const summary = (cs: { entityType: string; change: string; entityId: string }[]) =>
  cs.map((c) => `${c.entityType}:${c.change}:${c.entityId}`);

function replaceRecord(list: RawElement[], id: string, f: (r: RawElement) => RawElement): void {
  const i = list.findIndex((r) => r.attributes.Id === id);
  list[i] = f(list[i]!);
}
function setChild(r: RawElement, name: string, value: string | RawElement[]): RawElement {
  const make = (): RawElement => el(name, {}, value);
  return r.children.some((c) => c.name === name)
    ? { ...r, children: r.children.map((c) => (c.name === name ? make() : c)) }
    : { ...r, children: [...r.children, make()] };
}

describe('a partially read record keeps its entity: unreadable fields keep their stored value', () => {
  it('two staff — TeachingStaff "Y" and a Role without Id — are kept; readable fields update, the roles keep their stored value', () => {
    const next = school();
    replaceRecord(next.currentStaff!, '1', (r) => setChild(r, 'TeachingStaff', 'Y'));
    replaceRecord(next.currentStaff!, '2', (r) =>
      setChild(setChild(r, 'Surname', 'Renamed'), 'Roles', [
        el('Role', { Id: '4' }, [t('Name', 'Teacher - Maths')]),
        el('Role', {}, [t('Name', 'Head of Year')]),
      ]),
    );
    const { changes, n } = run(school(), next);
    expect(summary(changes)).toEqual(['staff:updated:2']);
    expect(changes[0]).toMatchObject({
      changedFields: ['fullName', 'surname'],
      after: {
        surname: 'Renamed',
        roles: [
          { id: '4', name: 'Teacher - Maths' },
          { id: '9', name: 'Form Tutor' },
        ],
        teaching: true,
      },
    });
    const f = n.findings.filter((x) => x.code === 'ISAMS_FIELD_UNREADABLE');
    expect(f).toEqual([
      expect.objectContaining({
        datasetId: 'currentStaff',
        recordId: '2',
        field: 'Roles/Role/@Id',
        severity: 'warning',
      }),
    ]);
    expect(f[0]!.message).toMatch(/In iSAMS/);
  });

  it('an unreadable boolean keeps the stored value; a readable change next to it is applied', () => {
    const next = school();
    replaceRecord(next.currentStaff!, '1', (r) =>
      setChild(setChild(r, 'TeachingStaff', 'maybe'), 'Forename', 'Ann'),
    );
    const first = school();
    replaceRecord(first.currentStaff!, '1', (r) => setChild(r, 'TeachingStaff', '0'));
    const { changes } = run(first, next);
    expect(summary(changes)).toEqual(['staff:updated:1']);
    expect(changes[0]).toMatchObject({
      changedFields: ['forename', 'fullName'],
      after: { forename: 'Ann', teaching: false },
    });
  });

  it('odd values in pupils, contacts, sets, set lists, groups and memberships remove nobody', () => {
    const next = school();
    replaceRecord(next.currentPupils!, '100', (r) =>
      setChild(setChild(r, 'NCYear', 'Year 9'), 'Surname', 'New'),
    );
    replaceRecord(next.currentPupils!, '101', (r) => ({
      ...setChild(r, 'DOB', '31/02/2011'),
      attributes: { ...r.attributes, AcademicHouseId: 'x' },
    }));
    next.contacts![0] = setChild(next.contacts![0]!, 'Pupils', [el('Pupil', {}, [t('Status', 'Current')])]);
    next.contacts![2] = setChild(next.contacts![2]!, 'MailMergeAll', 'maybe');
    replaceRecord(next.teachingSets!, '70', (r) =>
      setChild(r, 'Teachers', [
        el('Teacher', { Id: '700', StaffId: '1', PrimaryTeacher: 'Maybe' }),
        el('Teacher', { Id: '701', PrimaryTeacher: 'False' }),
      ]),
    );
    replaceRecord(next.customGroups!, '40', (r) =>
      setChild(setChild(r, 'Deleted', 'x'), 'Name', 'Chamber choir'),
    );
    const { changes, n } = run(school(), next);
    expect(summary(changes).filter((c) => c.includes(':removed:'))).toEqual([]);
    const byId = (type: string, id: string) =>
      changes.find((c) => c.entityType === type && c.entityId === id);
    expect(byId('pupil', '100')).toMatchObject({
      changedFields: ['fullName', 'surname'],
      after: { yearGroupId: '9' },
    });
    expect(byId('pupil', '101')).toBeUndefined(); // nothing readable changed: DOB and house keep their stored values
    expect(byId('contact', '5001')).toBeUndefined(); // pupils list kept
    expect(byId('teachingSet', '70')).toBeUndefined(); // teachers kept
    expect(byId('customGroup', '40')).toMatchObject({ changedFields: ['name'] });
    expect(
      n.findings
        .filter((f) => f.code === 'ISAMS_FIELD_UNREADABLE')
        .map((f) => `${f.datasetId}:${f.recordId}:${f.field}`)
        .sort(),
    ).toEqual(
      [
        'contacts:500:Pupils/Pupil/@Id',
        'contacts:501:MailMergeAll',
        'currentPupils:100:NCYear',
        'currentPupils:101:@AcademicHouseId',
        'currentPupils:101:DOB',
        'customGroups:40:Deleted',
        'teachingSets:70:Teachers/Teacher/@PrimaryTeacher',
        'teachingSets:70:Teachers/Teacher/@StaffId',
      ].sort(),
    );
  });
});

describe('a record whose identity cannot be read removes nothing of its type', () => {
  it('a record whose identity cannot be read removes nothing of its type in that run, with a finding', () => {
    const next = school();
    // pupil 102 really left, but one pupil record has an unreadable Id: it might be 102
    next.currentPupils = [
      ...next.currentPupils!.filter((r) => r.attributes.Id !== '102'),
      el('Pupil', { Id: '1O2' }, [t('Surname', 'Q102')]),
    ];
    next.teachingSetLists = [
      ...next.teachingSetLists!.filter((r) => r.attributes.Id !== '3'),
      el('SetList', { Id: '8', SetId: '71' }),
    ];
    next.customGroupMembership = [
      el('CustomPupilGroupMembershipItem', { Id: '1', PupilID: '100' }, [t('CustomGroupId', '')]),
    ];
    const { changes, n } = run(school(), next);
    expect(summary(changes).filter((c) => c.includes(':removed:'))).toEqual([]);
    const suspended = n.findings.filter((f) => f.code === 'ROSTER_REMOVALS_SUSPENDED');
    expect(suspended.map((f) => f.datasetId).sort()).toEqual([
      'currentPupils',
      'customGroupMembership',
      'teachingSetLists',
    ]);
    expect(
      n.findings
        .filter((f) => f.code.startsWith('ISAMS_RECORD_'))
        .map((f) => `${f.code}:${f.datasetId}`)
        .sort(),
    ).toEqual([
      'ISAMS_RECORD_INVALID_FIELD:currentPupils',
      'ISAMS_RECORD_INVALID_FIELD:customGroupMembership',
      'ISAMS_RECORD_INVALID_FIELD:teachingSetLists',
    ]);
    // the same feed without the unreadable records removes them as usual
    const clean = school();
    clean.currentPupils = clean.currentPupils!.filter((r) => r.attributes.Id !== '102');
    expect(summary(run(school(), clean).changes).filter((c) => c.includes('pupil:removed'))).toEqual([
      'pupil:removed:102',
    ]);
  });

  it('references into a dataset with an unidentifiable record still resolve against the stored roster', () => {
    const next = school();
    next.currentStaff = [
      ...next.currentStaff!.filter((r) => r.attributes.Id !== '1'),
      el('StaffMember', { PersonId: '91' }, [t('UserCode', 'UC1')]),
    ];
    const { changes } = run(school(), next);
    // form 9A's tutor (staff 1) and pupil 100's tutor (UC1) stay linked; staff 1 is not removed
    expect(summary(changes)).toEqual([]);
  });
});

describe('a partially read record that is new, restored or not valid text', () => {
  it('a new person whose record is partly unreadable is added with what could be read', () => {
    const next = school();
    next.currentStaff!.push(staff('4', 'UC4', [el('Roles', {}, [el('Role', {}, [t('Name', 'Cover')])])], {}));
    replaceRecord(next.currentStaff!, '4', (r) => setChild(r, 'TeachingStaff', 'perhaps'));
    const { changes } = run(school(), next);
    expect(summary(changes)).toEqual(['staff:added:4']);
    expect(changes[0]!.after).toMatchObject({ id: '4', userCode: 'UC4', surname: 'S4' });
    expect(changes[0]!.after).not.toHaveProperty('teaching');
    expect(changes[0]!.after).not.toHaveProperty('roles');
  });

  it('a restored entity keeps the fields of its last image that cannot be read now', () => {
    const first = school();
    const stored = storedOf(normalise({ datasets: first, asOf }).entities);
    stored.staff!.get('2')!.status = 'removed';
    const next = school();
    replaceRecord(next.currentStaff!, '2', (r) => setChild(r, 'Roles', [el('Role', {}, [t('Name', 'x')])]));
    const n = normalise({ datasets: next, asOf, fallback: fallbackOf(stored) });
    const changes = diff(stored, n.entities, n.presentTypes, n);
    expect(summary(changes)).toEqual(['staff:restored:2']);
    expect(changes[0]!.after).toMatchObject({ roles: [{ id: '4' }, { id: '9' }] });
  });

  it('a name that arrives with invalid UTF-8 keeps its stored value (no name change), with a finding', () => {
    const first = school();
    replaceRecord(first.currentStaff!, '1', (r) => setChild(r, 'Surname', 'Zoë'));
    replaceRecord(first.currentPupils!, '100', (r) => setChild(r, 'Forename', 'Renée'));
    const next = school();
    // what the decoder makes of Windows-1252 "ë" (0xEB) and a JSON "\ud800" escape
    replaceRecord(next.currentStaff!, '1', (r) =>
      setChild(setChild(r, 'Surname', 'Zo\uFFFD'), 'Forename', 'Ann'),
    );
    replaceRecord(next.currentPupils!, '100', (r) => setChild(r, 'Forename', 'Ren\uD800e'));
    const { changes, n } = run(first, next);
    expect(summary(changes)).toEqual(['staff:updated:1']);
    expect(changes[0]).toMatchObject({
      changedFields: ['forename'],
      after: { forename: 'Ann', surname: 'Zoë', fullName: 'F1 Zoë' },
    });
    const f = n.findings.filter((x) => x.code === 'ISAMS_FIELD_UNREADABLE');
    expect(f.map((x) => `${x.datasetId} ${x.recordId} ${x.field}`)).toEqual([
      'currentStaff 1 Surname',
      'currentPupils 100 Forename',
    ]);
    for (const x of f) {
      expect(x.message).toMatch(/not valid text.*In iSAMS.*retype/);
      expect(x.message).not.toMatch(/Zo|Ren/);
    }
  });
});

/**
 * A record repeated with the same id and different content (a join that emits one row per child, a
 * row id reused): which copy is right is not known, so nothing only one copy carries is removed or
 * unlinked — a membership is keyed by its (set/group, pupil), and what the copies of an entity
 * disagree on keeps its stored value.
 */
describe('a record repeated with the same id and different content removes and unlinks nothing', () => {
  const codesOf = (n: ReturnType<typeof run>['n'], code: string) =>
    n.findings.filter((f) => f.code === code).map((f) => `${f.datasetId}:${f.recordId}`);

  it('a set list or group membership row id repeated for another pupil is two memberships; other removals still apply', () => {
    const first = school();
    first.customGroupMembership!.push(groupMember('4', '40', '101'));
    const next = school();
    // row 2's membership (70:101) now comes under row id 1; row 3 (71:102) is really gone
    next.teachingSetLists = [setList('1', '70', '100'), setList('1', '70', '101')];
    next.customGroupMembership = [groupMember('1', '40', '100'), groupMember('1', '40', '101')];
    const { changes, n } = run(first, next);
    expect(summary(changes)).toEqual([
      'setMembership:updated:70:101',
      'setMembership:removed:71:102',
      'customGroupMembership:updated:40:101',
    ]);
    expect(n.entities.setMembership.get('70:101')).toMatchObject({ rowIds: ['1'] });
    expect(n.suspendedTypes.size).toBe(0);
    expect(codesOf(n, 'ROSTER_CONFLICTING_DUPLICATE')).toEqual([]);
  });

  it('a department repeated with other subjects removes none of them; its subject list is read from every copy', () => {
    const first = school();
    first.departmentsAndSubjects![0] = department('1', [
      ['21', 'Maths'],
      ['22', 'Physics'],
      ['23', 'Chemistry'],
    ]);
    const next = school();
    next.departmentsAndSubjects = [
      department('1', [
        ['21', 'Maths'],
        ['22', 'Physics'],
      ]),
      department('1', [['23', 'Chemistry']]),
      department('2', [['22', 'Physics']]),
    ];
    const { changes, n } = run(first, next);
    expect(summary(changes)).toEqual([]);
    expect(n.entities.subject.get('23')).toMatchObject({ departmentIds: ['1'] });
    expect(codesOf(n, 'ROSTER_CONFLICTING_DUPLICATE')).toEqual(['departmentsAndSubjects:1']);
    const finding = n.findings.find((f) => f.code === 'ROSTER_CONFLICTING_DUPLICATE')!;
    expect(finding.message).toMatch(/Subjects/);
    expect(finding.message).toMatch(/stored/);
  });

  it('a pupil, staff member or custom group repeated with other values: what the copies disagree on keeps its stored value; an identical repeat is harmless', () => {
    const next = school();
    const [p100, p101, p102] = next.currentPupils!;
    // pupil 100's first copy names another form; pupil 101's tutor is staff 1's user code in
    // staff 1's second copy; group 40's first copy says deleted; pupil 102 is repeated identically
    const p100b = setChild(p100!, 'Form', '10A');
    next.currentPupils = [p100b, p100!, setChild(p101!, 'Tutor', 'UC1B'), p102!, p102!];
    next.currentStaff = [...next.currentStaff!, staff('1', 'UC1B')];
    next.customGroups = [group('40', 'Choir', { deleted: true }), ...next.customGroups!];
    const { changes, n } = run(school(), next);
    expect(summary(changes)).toEqual(['pupil:updated:101']);
    expect(changes[0]).toMatchObject({ changedFields: ['tutorStaffId'], after: { tutorStaffId: '1' } });
    expect(n.keepStored.pupil?.get('100')).toEqual(['formId']);
    expect(codesOf(n, 'ROSTER_CONFLICTING_DUPLICATE').sort()).toEqual([
      'currentPupils:100',
      'currentStaff:1',
      'customGroups:40',
    ]);
    expect(codesOf(n, 'ROSTER_DUPLICATE_RECORD')).toEqual(['currentPupils:102']);
    expect(n.suspendedTypes.size).toBe(0);
    expect(
      n.findings.find((f) => f.recordId === '100' && f.code === 'ROSTER_CONFLICTING_DUPLICATE')!.message,
    ).toMatch(/Form/);
  });

  it('a repeat’s user code or name links only where no record has it; one two records’ repeats name dangles', () => {
    const next = school();
    // staff 1's repeat names staff 2's code UC2, and staff 1's and staff 3's repeats both name UC9;
    // house Kestrel's repeat is named Falcon (house 2's name); division 3's repeat is named Junior
    // (division 4's); staff 3's repeat alone names UC3B
    next.currentStaff!.push(staff('1', 'UC2'), staff('1', 'UC9'), staff('3', 'UC9'), staff('3', 'UC3B'));
    next.academicHouses!.push(house('1', 'Falcon'));
    next.schoolDivisions!.push(division('4', 'Junior', ['9']), division('3', 'Junior', ['9', '10']));
    next.currentPupils!.push(
      pupil('150', [t('Tutor', 'UC2'), t('AcademicHouse', 'Falcon'), t('DivisionName', 'Junior')]),
      pupil('151', [t('Tutor', 'uc2'), t('AcademicHouse', 'falcon')]),
      pupil('152', [t('Tutor', 'UC9')]),
      pupil('153', [t('Tutor', 'UC3B')]),
    );
    const n = normalise({ datasets: next, asOf });
    const pupils = n.entities.pupil;
    expect(pupils.get('150')).toMatchObject({ tutorStaffId: '2', academicHouseId: '2', divisionId: '4' });
    expect(pupils.get('151')).toMatchObject({ tutorStaffId: '2', academicHouseId: '2' });
    expect(pupils.get('152')).not.toHaveProperty('tutorStaffId');
    expect(pupils.get('153')).toMatchObject({ tutorStaffId: '3' });
    const found = n.findings.filter((f) => ['150', '151', '152', '153'].includes(f.recordId ?? ''));
    expect(found.map((f) => `${f.code}:${f.recordId}:${f.field}`)).toEqual([
      'ROSTER_DANGLING_REFERENCE:152:Tutor',
    ]);
    expect(found[0]!.message).toMatch(/several current staff members/);
    expect(found[0]!.message).toMatch(/repeated/);
    expect(found[0]).not.toHaveProperty('ref');
  });
});

/**
 * SQL Server's `FOR XML AUTO` sends one copy of a parent row per joined child row it cannot group:
 * a parent with two children at the school comes as two contacts with the same id, one pupil each.
 * A list of child items is therefore read from every copy (the union, de-duplicated, sorted): no
 * link one copy names is dropped, none every copy names is lost, and the order of the copies does
 * not matter.
 */
/** An entity as a run leaves it: its change's image, else the stored one. */
const completed = (r: ReturnType<typeof run>, type: RosterEntityType, id: string) =>
  r.changes.find((c) => c.entityType === type && c.entityId === id)?.after ?? r.stored[type]!.get(id)!.data;

describe('a list a joined repeat splits across its copies is read from every copy', () => {
  it('a new contact sent once per child is added with both pupils', () => {
    const next = school();
    next.contacts!.push(
      contact('510', '5100', true, [['100', 'Current']]),
      contact('510', '5100', true, [['101', 'Current']]),
    );
    const { changes } = run(school(), next);
    expect(summary(changes)).toEqual(['contact:added:5100']);
    expect(changes[0]!.after).toMatchObject({
      contactIds: ['510'],
      relationship: 'Mother',
      pupils: [
        { pupilId: '100', status: 'Current', relationship: 'Mother', contactId: '510' },
        { pupilId: '101', status: 'Current', relationship: 'Mother', contactId: '510' },
      ],
    });
  });

  it('a stored contact with pupil A sent as (A) and (B) links both; one whose copies name (A, B) and (A) loses no link', () => {
    const first = school();
    first.contacts!.push(contact('510', '5100', true, [['100', 'Current']]));
    first.contacts!.push(
      contact('511', '5110', true, [
        ['100', 'Current'],
        ['101', 'Current'],
      ]),
    );
    const next = school();
    next.contacts!.push(
      contact('510', '5100', true, [['100', 'Current']]),
      contact('510', '5100', true, [['101', 'Current']]),
      contact('511', '5110', true, [
        ['100', 'Current'],
        ['101', 'Current'],
      ]),
      contact('511', '5110', true, [['100', 'Current']]),
    );
    const r = run(first, next);
    expect(summary(r.changes)).toEqual(['contact:updated:5100']);
    expect(r.changes[0]).toMatchObject({ changedFields: ['pupils'] });
    const pupilsOf = (id: string) =>
      (completed(r, 'contact', id).pupils as { pupilId: string }[]).map((l) => l.pupilId);
    expect(pupilsOf('5100')).toEqual(['100', '101']);
    expect(pupilsOf('5110')).toEqual(['100', '101']);
    expect(r.n.keepStored.contact?.get('5100')).toBeUndefined();
  });

  it('new staff, divisions, departments and sets sent once per child keep every child of every copy', () => {
    const role = (id: string, name: string) => el('Role', { Id: id }, [t('Name', name)]);
    const next = school();
    next.currentStaff!.push(
      staff('4', 'UC4', [el('Roles', {}, [role('4', 'Teacher - Maths')])]),
      staff('4', 'UC4', [el('Roles', {}, [role('9', 'Form Tutor')])]),
    );
    next.schoolDivisions!.push(division('6', 'Prep', ['9']), division('6', 'Prep', ['10']));
    next.departmentsAndSubjects!.push(
      department('7', [['21', 'Maths']]),
      department('7', [['22', 'Physics']]),
    );
    next.teachingSets!.push(set('72', '21', [['1', true]]), set('72', '21', [['2', false]]));
    const { changes } = run(school(), next);
    expect(summary(changes)).toEqual([
      'staff:added:4',
      'division:added:6',
      'department:added:7',
      'subject:updated:21',
      'subject:updated:22',
      'teachingSet:added:72',
    ]);
    const after = (type: string, id: string) =>
      changes.find((c) => c.entityType === type && c.entityId === id)!.after;
    expect(after('staff', '4')).toMatchObject({
      roles: [
        { id: '4', name: 'Teacher - Maths' },
        { id: '9', name: 'Form Tutor' },
      ],
    });
    expect(after('division', '6')).toMatchObject({ yearGroupIds: ['9', '10'] });
    expect(after('department', '7')).toMatchObject({ subjectIds: ['21', '22'] });
    expect(after('subject', '21')).toMatchObject({ departmentIds: ['1', '7'] });
    expect(after('teachingSet', '72')).toMatchObject({
      teachers: [
        { staffId: '1', primary: true },
        { staffId: '2', primary: false },
      ],
      primaryTeacherStaffId: '1',
    });
  });
});

describe('a list read from every copy: in either order, and an item its copies give differently', () => {
  it('the copies in either order give the same images, so a resync does not flap', () => {
    // pupil 102 is Former in one copy, Current in the other: added without a status either way
    const copies = [
      contact('510', '5100', true, [
        ['100', 'Current'],
        ['102', 'Former'],
      ]),
      contact('510', '5100', true, [
        ['101', 'Former'],
        ['102', 'Current'],
      ]),
    ];
    const roles = [
      staff('2', 'UC2', [el('Roles', {}, [el('Role', { Id: '9' }, [t('Name', 'Form Tutor')])])]),
      staff('2', 'UC2', [el('Roles', {}, [el('Role', { Id: '12' }, [t('Name', 'Head of Year')])])]),
    ];
    const sets = [
      set('70', '21', [['2', false]]),
      set('70', '21', [
        ['1', true],
        ['3', false],
      ]),
    ];
    const inOrder = (reversed: boolean) => {
      const o = <T>(xs: T[]) => (reversed ? [...xs].reverse() : xs);
      const next = school();
      next.contacts!.push(...o(copies));
      next.currentStaff![1] = o(roles)[0]!;
      next.currentStaff!.push(o(roles)[1]!);
      next.teachingSets![0] = o(sets)[0]!;
      next.teachingSets!.push(o(sets)[1]!);
      const r = run(school(), next);
      return {
        changes: r.changes.map((c) => `${summary([c])[0]} ${canonicalJson(c.after)}`),
        images: (['contact', 'staff', 'teachingSet'] as const).map((type) =>
          [...r.n.entities[type].keys()].map((id) => canonicalJson(completed(r, type, id))),
        ),
        keepStored: r.n.keepStored,
      };
    };
    const a = inOrder(false);
    const b = inOrder(true);
    expect(b).toEqual(a);
    expect(a.images[0]![a.images[0]!.length - 1]).toContain(
      '{"contactId":"510","pupilId":"102","relationship":"Mother"}',
    );
    expect(a.changes.map((c) => c.split(' ')[0])).toEqual([
      'staff:updated:2',
      'contact:added:5100',
      'teachingSet:updated:70',
    ]);
  });

  it('a pupil two copies give with different details keeps its stored link, or what the copies agree on when new', () => {
    const first = school();
    first.contacts!.push(
      contact('510', '5100', true, [
        ['100', 'Current'],
        ['101', 'Current'],
      ]),
    );
    const repeat = (s: School) =>
      s.contacts!.push(
        contact('520', '5200', true, [
          ['100', 'Current'],
          ['101', 'Current'],
        ]),
        contact('520', '5200', true, [
          ['100', 'Current'],
          ['101', 'Former'],
        ]),
        contact('510', '5100', true, [
          ['100', 'Current'],
          ['101', 'Former'],
        ]),
        contact('510', '5100', true, [
          ['100', 'Current'],
          ['101', 'Current'],
          ['102', 'Current'],
        ]),
      );
    const next = school();
    repeat(next);
    const r = run(first, next);
    expect(summary(r.changes)).toEqual(['contact:added:5200', 'contact:updated:5100']);
    const links = (id: string) => completed(r, 'contact', id).pupils;
    // stored 5100: 101 keeps its stored link (Current), 102 that only one copy names is added
    expect(links('5100')).toEqual([
      { pupilId: '100', status: 'Current', relationship: 'Mother', contactId: '510' },
      { pupilId: '101', status: 'Current', relationship: 'Mother', contactId: '510' },
      { pupilId: '102', status: 'Current', relationship: 'Mother', contactId: '510' },
    ]);
    // new 5200: both links, 101 without the status its copies disagree on
    expect(links('5200')).toEqual([
      { pupilId: '100', status: 'Current', relationship: 'Mother', contactId: '520' },
      { pupilId: '101', relationship: 'Mother', contactId: '520' },
    ]);
  });

  it('a kept list item takes the stored item with its key, else stays as read; a whole list kept wins', () => {
    const read: RosterEntity = {
      id: '5100',
      pupils: [{ pupilId: '100', status: 'Current' }, { pupilId: '101' }],
    };
    const stored: RosterEntity = { id: '5100', pupils: [{ pupilId: '101', status: 'Former' }] };
    const item = itemField('pupils', 'pupilId', '101');
    expect(item).toBe('pupils[pupilId=101]');
    expect(keepStoredFields(read, [item], stored).pupils).toEqual([
      { pupilId: '100', status: 'Current' },
      { pupilId: '101', status: 'Former' },
    ]);
    expect(keepStoredFields(read, [item], undefined)).toEqual(read);
    expect(keepStoredFields(read, [item], { id: '5100' })).toEqual(read);
    expect(keepStoredFields(read, ['pupils', item], stored).pupils).toEqual(stored.pupils);
    expect((read.pupils as JsonValue[])[1]).toEqual({ pupilId: '101' });
  });
});
