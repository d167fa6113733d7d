import { describe, expect, it } from 'vitest';
import { diff } from '../../src/domain/diff';
import type { StoredByType } from '../../src/domain/diff';
import { normalise } from '../../src/domain/normalise';
import { DATASET_ENTITY_TYPE } from '../../src/domain/roster-model';
import { DATASET_IDS } from '@isams-sync/isams';
import type { RawSnapshot } from '../../src/domain/normalise';
import { contact, el, form, pupil, setList, smallSchool, staff } from '../support/raw';

const asOf = new Date('2026-01-10T00:00:00Z');
const snap = (datasets: Record<string, unknown>): RawSnapshot => ({
  datasets: datasets as RawSnapshot['datasets'],
  asOf,
});
const codes = (r: ReturnType<typeof normalise>) =>
  r.findings.map((f) => `${f.code}:${f.datasetId}:${f.recordId ?? ''}`);

describe('normalise: the entities of a school, one contact per person', () => {
  it('builds every entity type of a complete small school with resolved references', () => {
    const r = normalise(snap(smallSchool()));
    expect(r.presentTypes.size).toBe(15);
    expect(r.entities.staff.get('1')).toMatchObject({
      id: '1',
      userCode: 'UC1',
      teaching: true,
      divisionIds: [],
    });
    expect(r.entities.pupil.get('100')).toMatchObject({
      formId: '9A',
      yearGroupId: '9',
      tutorStaffId: '1',
      academicHouseId: '1', // by name
      boardingHouseId: '5', // by id attribute
      divisionId: '3',
    });
    expect(r.entities.pupil.get('101')).toMatchObject({ academicHouseId: '2', tutorStaffId: '2' });
    expect(r.entities.form.get('9A')).toMatchObject({ yearGroupId: '9', tutorStaffId: '1' });
    expect(r.entities.division.get('3')).toMatchObject({ yearGroupIds: ['9', '10'] });
    // subject 22 is under two departments: one subject with both department ids
    expect(r.entities.subject.size).toBe(2);
    expect(r.entities.subject.get('22')).toMatchObject({ departmentIds: ['1', '2'] });
    expect(r.entities.department.get('2')).toMatchObject({ subjectIds: ['22'] });
    expect(r.entities.teachingSet.get('70')).toMatchObject({
      teachers: [
        { staffId: '1', primary: true },
        { staffId: '2', primary: false },
      ],
      primaryTeacherStaffId: '1',
      subjectId: '21',
    });
    expect([...r.entities.setMembership.keys()]).toEqual(['70:100', '70:101', '71:102']);
    expect(r.entities.teachingForm.get('1')).toMatchObject({ formId: '9A', subjectId: '21' });
    // deleted (41) and expired (42) groups excluded with their memberships
    expect([...r.entities.customGroup.keys()]).toEqual(['40']);
    expect([...r.entities.customGroupMembership.keys()]).toEqual(['40:100']);
    expect(codes(r)).toEqual([
      'ROSTER_GROUP_DELETED:customGroups:41',
      'ROSTER_GROUP_EXPIRED:customGroups:42',
      'ROSTER_MEMBERSHIP_OF_EXCLUDED_GROUP:customGroupMembership:2',
      'ROSTER_MEMBERSHIP_OF_EXCLUDED_GROUP:customGroupMembership:3',
    ]);
    expect(r.findings.every((f) => f.severity === 'info')).toBe(true);
    // The records not imported, per type (the run's `skipped` counts).
    expect(r.skipped).toEqual({ customGroup: 2, customGroupMembership: 2 });
  });

  it('splits a joint contact record into one contact per person and merges a person across records', () => {
    const school = smallSchool();
    school.contacts!.push(contact('502', '5001', true, [['102', 'Former']]));
    const r = normalise(snap(school));
    expect([...r.entities.contact.keys()]).toEqual(['5001', '5002', '5003']);
    const mother = r.entities.contact.get('5001')!;
    expect(mother).toMatchObject({
      contactIds: ['500', '502'],
      relationship: 'Mother',
      isFirstPersonContact: true,
    });
    expect(
      (mother.pupils as { pupilId: string; status: string }[]).map((p) => `${p.pupilId}:${p.status}`),
    ).toEqual(['100:Current', '101:Current', '102:Former']);
    expect(r.entities.contact.get('5002')).toMatchObject({
      relationship: 'Father',
      isFirstPersonContact: false,
    });
  });

  it('keys a contact without PersonId on its record id and position, with a finding', () => {
    const r = normalise(
      snap({ contacts: [contact('600', undefined, true, []), contact('600', undefined, false, [])] }),
    );
    expect([...r.entities.contact.keys()]).toEqual(['c600-1', 'c600-2']);
    expect(codes(r)).toEqual([
      'ROSTER_CONTACT_WITHOUT_PERSON_ID:contacts:600',
      'ROSTER_CONTACT_WITHOUT_PERSON_ID:contacts:600',
    ]);
  });

  // A joint record (two people, one Contact Id) whose rows carry neither PersonId nor
  // IsFirstPersonContact: nothing tells the two people apart, so neither can be matched.
  const unflagged = (id: string, forename: string) => {
    const c = contact(id, undefined, true, [['100', 'Current']], forename);
    const { IsFirstPersonContact: _, ...attributes } = c.attributes;
    return { ...c, attributes };
  };

  it('does not take the second person of a joint record without PersonId or first/second flag for a duplicate of the first', () => {
    const r = normalise(snap({ contacts: [unflagged('600', 'Daniel'), unflagged('600', 'Sarah')] }));
    expect([...r.entities.contact.keys()]).toEqual([]);
    expect(codes(r)).not.toContain('ROSTER_CONFLICTING_DUPLICATE:contacts:600/1');
    expect(r.suspendedTypes.has('contact')).toBe(true);
    // Stored from a run that had the flags: neither person is removed.
    const before = normalise(
      snap({
        contacts: [
          contact('600', undefined, true, [['100', 'Current']], 'Daniel'),
          contact('600', undefined, false, [['100', 'Current']], 'Sarah'),
        ],
      }),
    );
    const stored: StoredByType = {
      contact: new Map(
        [...before.entities.contact.values()].map((data) => [
          data.id,
          { entityType: 'contact', id: data.id, status: 'active', data },
        ]),
      ),
    };
    expect([...stored.contact!.keys()]).toEqual(['c600-1', 'c600-2']);
    const changes = diff(stored, r.entities, r.presentTypes, r);
    expect(changes.filter((c) => c.change === 'removed')).toEqual([]);
  });

  it('still keys a lone row without the flag as the first person, and one repeated identically as a duplicate', () => {
    expect([...normalise(snap({ contacts: [unflagged('600', 'Daniel')] })).entities.contact.keys()]).toEqual([
      'c600-1',
    ]);
    const twice = normalise(snap({ contacts: [unflagged('600', 'Daniel'), unflagged('600', 'Daniel')] }));
    expect([...twice.entities.contact.keys()]).toEqual(['c600-1']);
    expect(codes(twice)).toContain('ROSTER_DUPLICATE_RECORD:contacts:600/1');
    expect(twice.suspendedTypes.has('contact')).toBe(false);
  });
});

describe('normalise: faults in the data become findings, never lost records', () => {
  it('turns dangling references into findings and leaves the link empty, never dropping the record', () => {
    const school = smallSchool();
    school.currentPupils!.push(
      pupil(
        '103',
        [
          el('Form', {}, '9Z'),
          el('NCYear', {}, '99'),
          el('Tutor', {}, 'GONE'),
          el('AcademicHouse', {}, 'Nowhere'),
        ],
        { DivisionId: '77' },
      ),
    );
    school.teachingSets!.push(
      el('Set', { Id: '72', SubjectId: '99' }, [
        el('Teachers', {}, [el('Teacher', { Id: 'x', StaffId: '404', PrimaryTeacher: 'True' })]),
      ]),
    );
    school.teachingSetLists!.push(setList('4', '70', '999'), setList('5', '999', '100'));
    school.contacts!.push(
      contact('503', '5009', true, [
        ['999', 'Current'],
        ['998', 'Former'],
      ]),
    );
    const r = normalise(snap(school));
    expect(r.entities.pupil.get('103')).toEqual(expect.objectContaining({ id: '103', surname: 'Q103' }));
    expect(r.entities.pupil.get('103')).not.toHaveProperty('formId');
    expect(r.entities.pupil.get('103')).not.toHaveProperty('tutorStaffId');
    expect(r.entities.teachingSet.get('72')).toMatchObject({ teachers: [] });
    expect(r.entities.setMembership.has('70:999')).toBe(false);
    const dangling = r.findings.filter((f) => f.code.startsWith('ROSTER_DANGLING'));
    expect(dangling.map((f) => `${f.code}:${f.recordId}:${f.field}`)).toEqual([
      'ROSTER_DANGLING_REFERENCE:103:Form',
      'ROSTER_DANGLING_REFERENCE:103:NCYear',
      'ROSTER_DANGLING_REFERENCE:103:AcademicHouse',
      'ROSTER_DANGLING_REFERENCE:103:@DivisionId',
      'ROSTER_DANGLING_REFERENCE:103:Tutor',
      'ROSTER_DANGLING_REFERENCE:503:Pupils/Pupil/@Id',
      'ROSTER_DANGLING_REFERENCE:72:Teachers/Teacher/@StaffId',
      'ROSTER_DANGLING_REFERENCE:72:@SubjectId',
      'ROSTER_DANGLING_MEMBERSHIP:4:@PupilId',
      'ROSTER_DANGLING_MEMBERSHIP:5:@SetId',
    ]);
    expect(r.skipped).toMatchObject({ setMembership: 2 });
    // a user code is personal-ish: not copied into the finding
    expect(dangling.find((f) => f.field === 'Tutor')).not.toHaveProperty('ref');
  });

  it('links a form id or tutor user code that differs only in case; one matching two that differ only in case stays dangling', () => {
    const school = smallSchool();
    school.schoolForms!.push(form('Ab', '9'), form('aB', '9'));
    school.currentStaff!.push(staff('4', 'Uc4'), staff('5', 'uC4'));
    school.currentPupils!.push(
      pupil('103', [el('Form', {}, '9a'), el('Tutor', {}, 'uc1')]),
      pupil('104', [el('Form', {}, 'AB'), el('Tutor', {}, 'UC4')]),
      pupil('105', [el('Form', {}, 'aB'), el('Tutor', {}, 'uC4')]),
    );
    const r = normalise(snap(school));
    expect(r.entities.pupil.get('103')).toMatchObject({ formId: '9A', tutorStaffId: '1' });
    expect(r.entities.pupil.get('104')).not.toHaveProperty('formId');
    expect(r.entities.pupil.get('104')).not.toHaveProperty('tutorStaffId');
    expect(r.entities.pupil.get('105')).toMatchObject({ formId: 'aB', tutorStaffId: '5' });
    const found = r.findings.filter((f) => ['103', '104', '105'].includes(f.recordId ?? ''));
    expect(found.map((f) => `${f.code}:${f.recordId}:${f.field}`)).toEqual([
      'ROSTER_DANGLING_REFERENCE:104:Form',
      'ROSTER_DANGLING_REFERENCE:104:Tutor',
    ]);
    for (const f of found) expect(f.message).toMatch(/differ only in (letter )?case/);
    expect(found[1]).not.toHaveProperty('ref');
  });

  it('reports duplicates (identical and conflicting) and de-duplicates set memberships', () => {
    const school = smallSchool();
    school.currentStaff!.push(staff('1', 'UC1'), staff('2', 'OTHER'));
    school.teachingSetLists!.push(setList('9', '70', '100'));
    const r = normalise(snap(school));
    expect(r.entities.staff.get('2')).toMatchObject({ userCode: 'UC2' });
    expect(r.entities.setMembership.get('70:100')).toMatchObject({ rowIds: ['1', '9'] });
    expect(codes(r).filter((c) => !c.includes('GROUP'))).toEqual([
      'ROSTER_DUPLICATE_RECORD:currentStaff:1',
      'ROSTER_CONFLICTING_DUPLICATE:currentStaff:2',
      'ROSTER_DUPLICATE_SET_MEMBERSHIP:teachingSetLists:9',
    ]);
    expect(r.skipped).toMatchObject({ staff: 2, setMembership: 1 });
  });

  it('turns invalid records into findings with the typed view code', () => {
    const r = normalise(
      snap({ currentPupils: [el('Pupil', {}, [el('Forename', {}, 'No id')]), pupil('1')] }),
    );
    expect([...r.entities.pupil.keys()]).toEqual(['1']);
    expect(r.findings[0]).toMatchObject({ code: 'ISAMS_RECORD_MISSING_ID', datasetId: 'currentPupils' });
    expect(r.skipped).toEqual({ pupil: 1 });
  });
});

describe('DATASET_ENTITY_TYPE', () => {
  it('names the type of every dataset’s records (a department for departments and subjects)', () => {
    expect(Object.keys(DATASET_ENTITY_TYPE).sort()).toEqual([...DATASET_IDS].sort());
    expect(DATASET_ENTITY_TYPE.departmentsAndSubjects).toBe('department');
    expect(DATASET_ENTITY_TYPE.teachingSetLists).toBe('setMembership');
  });
});

describe('normalise: present datasets and determinism', () => {
  it('marks only present datasets as present; references into absent datasets stay unchecked', () => {
    const r = normalise(
      snap({
        currentPupils: [pupil('1', [el('Form', {}, '9A'), el('Tutor', {}, 'UC1')])],
        teachingSetLists: [],
      }),
    );
    expect([...r.presentTypes].sort()).toEqual(['pupil', 'setMembership']);
    expect(r.entities.pupil.get('1')).toMatchObject({ formId: '9A' });
    expect(r.entities.pupil.get('1')).not.toHaveProperty('tutorStaffId');
    expect(r.findings).toEqual([]);
    expect(r.datasetRecordCounts).toEqual({ currentPupils: 1, teachingSetLists: 0 });
  });

  it('is deterministic', () => {
    const a = normalise(snap(smallSchool()));
    const b = normalise(snap(smallSchool()));
    expect(JSON.stringify([...a.entities.contact.values()])).toBe(
      JSON.stringify([...b.entities.contact.values()]),
    );
    expect(a.findings).toEqual(b.findings);
  });
});

describe('normalise with the stored roster as fallback', () => {
  it('resolves references into absent datasets against the stored entities', () => {
    const stored = normalise(snap(smallSchool()));
    const { currentStaff: _s, schoolForms: _f, academicHouses: _a, ...rest } = smallSchool();
    const r = normalise({ datasets: rest as RawSnapshot['datasets'], asOf, fallback: stored.entities });
    expect(r.entities.pupil.get('100')).toEqual(stored.entities.pupil.get('100'));
    expect(r.entities.teachingSet.get('70')).toEqual(stored.entities.teachingSet.get('70'));
    expect(r.findings.filter((f) => f.code.startsWith('ROSTER_DANGLING'))).toEqual([]);
  });
});

describe('an absent Contacts dataset', () => {
  it('removes no contact (e.g. a fetch in method groups whose Contacts method name iSAMS did not accept)', () => {
    const full = normalise(snap(smallSchool()));
    expect(full.entities.contact.size).toBeGreaterThan(0);
    const storedContacts: StoredByType = {
      contact: new Map(
        [...full.entities.contact.values()].map((data) => [
          data.id,
          { entityType: 'contact', id: data.id, status: 'active', data },
        ]),
      ),
    };
    const { contacts: _absent, ...withoutContacts } = smallSchool();
    const r = normalise(snap(withoutContacts));
    expect(r.presentTypes.has('contact')).toBe(false);
    expect(
      diff(storedContacts, r.entities, r.presentTypes).filter((c) => c.entityType === 'contact'),
    ).toEqual([]);
    // Present but empty is different: those contacts would be removed (and the guard holds that).
    const empty = normalise(snap({ ...withoutContacts, contacts: [] }));
    expect(
      diff(storedContacts, empty.entities, empty.presentTypes)
        .filter((c) => c.entityType === 'contact')
        .map((c) => c.change),
    ).toEqual(Array(full.entities.contact.size).fill('removed'));
  });
});
