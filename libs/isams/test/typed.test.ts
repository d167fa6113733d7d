import { describe, expect, it } from 'vitest';
import { parseBatchDocument } from '../src/parser/parse-batch-document';
import { toTyped } from '../src/typed/to-typed';
import { DATASET_IDS } from '../src/datasets';
import type { DatasetId } from '../src/datasets';
import type { RawElement } from '../src/raw-element';
import { fixture } from './helpers';

const el = (
  name: string,
  attributes: Record<string, string> = {},
  kids: RawElement[] = [],
  text?: string,
): RawElement =>
  text === undefined ? { name, attributes, children: kids } : { name, attributes, text, children: kids };
const leaf = (name: string, text?: string, attributes: Record<string, string> = {}): RawElement =>
  el(name, attributes, [], text);

function typed<D extends DatasetId>(id: D, raw: RawElement) {
  const r = toTyped(id, raw);
  if (!r.ok) throw new Error(`unexpected finding ${JSON.stringify(r.finding)}`);
  return r.value;
}

describe('toTyped: the reference documents', () => {
  it('types every record of the reference sample', async () => {
    const doc = await parseBatchDocument(fixture('reference-sample.xml'), { format: 'xml' });
    for (const id of DATASET_IDS)
      for (const raw of doc.datasets[id].records) expect(toTyped(id, raw).ok).toBe(true);
    const staff = typed('currentStaff', doc.datasets.currentStaff.records[0]!);
    expect(staff).toMatchObject({
      id: '12',
      initials: 'AHW',
      teachingStaff: true,
      preferredName: 'Alice',
      schoolMobileNumber: undefined,
    });
    expect(staff.roles).toEqual([
      { id: '4', name: 'Teacher - Mathematics' },
      { id: '9', name: 'Form Tutor' },
    ]);
    expect(staff.divisions).toEqual([{ id: '3', name: 'Senior School' }]);
    const pupil = typed('currentPupils', doc.datasets.currentPupils.records[0]!);
    expect(pupil).toMatchObject({
      id: '710',
      form: '9W',
      ncYear: '9',
      academicHouseId: '2',
      boardingHouse: 'Lodge',
      tutorUserCode: 'AliceWhitmore48213377401',
      preferredName: 'Olly',
      middleName: 'James',
    });
    const pupil2 = typed('currentPupils', doc.datasets.currentPupils.records[1]!);
    expect(pupil2.form).toBeUndefined();
    expect(pupil2.title).toBeUndefined();
    const contact = typed('contacts', doc.datasets.contacts.records[0]!);
    expect(contact).toMatchObject({
      id: '3001',
      personId: '5001',
      isFirstPersonContact: true,
      relationship: 'Father',
      mailMergeAll: true,
      correspondenceMailMerge: false,
    });
    expect(contact.address).toEqual({
      lines: ['12 Orchard Way'],
      town: 'Exampleton',
      county: undefined,
      postcode: 'EX1 2AB',
      country: 'United Kingdom',
    });
    expect(contact.pupils).toEqual([{ id: '710', schoolId: '123456789012', status: 'Current' }]);
    expect(typed('customGroups', doc.datasets.customGroups.records[0]!)).toMatchObject({
      id: '77',
      authorId: '41',
      categoryId: '3',
      shared: true,
      expiryDisable: false,
      deleted: false,
      expiryDate: '2025-07-18T00:00:00',
    });
    expect(typed('customGroupMembership', doc.datasets.customGroupMembership.records[0]!)).toEqual({
      id: '9001',
      pupilId: '710',
      customGroupId: '77',
    });
    expect(typed('academicHouses', doc.datasets.academicHouses.records[0]!)).toMatchObject({
      id: '2',
      houseMasterId: '15',
      houseMasterUserCode: 'RobertPike99120455310',
      assistantHouseMasterUserCode: undefined,
      type: 'Academic',
    });
    expect(typed('schoolForms', doc.datasets.schoolForms.records[0]!)).toMatchObject({
      id: '9W',
      tutorId: '12',
      assistantTutorId: undefined,
      yearId: '9',
      roomId: '31',
      name: '9W',
    });
    expect(typed('schoolDivisions', doc.datasets.schoolDivisions.records[0]!).years).toEqual([
      { id: '70', yearId: '9' },
    ]);
    expect(typed('yearGroups', doc.datasets.yearGroups.records[0]!)).toMatchObject({
      id: '9',
      tutorId: '15',
      name: 'Year 9',
    });
    const depts = doc.datasets.departmentsAndSubjects.records.map((r) => typed('departmentsAndSubjects', r));
    expect(depts).toEqual([
      { id: '4', name: 'Mathematics', subjects: [{ id: '21', name: 'Mathematics', code: 'Ma' }] },
      { id: '9', name: 'Pastoral', subjects: [] },
    ]);
    expect(typed('teachingForms', doc.datasets.teachingForms.records[0]!)).toEqual({
      id: '310',
      formCode: '9W',
      timetableCode: '9W/PSHE',
      subjectId: '33',
    });
    const set = typed('teachingSets', doc.datasets.teachingSets.records[0]!);
    expect(set).toMatchObject({
      id: '501',
      subjectId: '21',
      yearId: '9',
      primaryTeacherUserCode: 'AliceWhitmore48213377401',
      setCode: '9/Ma1',
      description: undefined,
    });
    expect(set.teachers).toEqual([
      { id: '801', staffId: '12', primaryTeacher: true },
      { id: '802', staffId: '15', primaryTeacher: false },
    ]);
    expect(typed('teachingSetLists', doc.datasets.teachingSetLists.records[0]!)).toMatchObject({
      id: '12001',
      setId: '501',
      pupilId: '710',
      schoolId: '123456789012',
      lastUpdated: undefined,
    });
  });

  it('gives the same typed view for the JSON sketch as the XML', async () => {
    const doc = await parseBatchDocument(fixture('reference-sketch.json'), { format: 'json' });
    const set = typed('teachingSets', doc.datasets.teachingSets.records[0]!);
    expect(set.teachers).toEqual([{ id: '801', staffId: '12', primaryTeacher: true }]);
    expect(typed('teachingSetLists', doc.datasets.teachingSetLists.records[0]!)).toMatchObject({
      setId: '501',
      pupilId: '710',
      schoolId: '123456789012',
    });
  });
});

describe('toTyped: tolerant reading, and findings instead of throwing', () => {
  it('prefers modern attributes and falls back to Legacy elements', () => {
    const raw = el('Set', { Id: '1' }, [
      leaf('SubjectId', '21', { Legacy: 'True' }),
      leaf('YearId', '9', { Legacy: 'True' }),
    ]);
    expect(typed('teachingSets', raw)).toMatchObject({ subjectId: '21', yearId: '9' });
    const modern = el('Set', { Id: '1', SubjectId: '22' }, [leaf('SubjectId', '21', { Legacy: 'True' })]);
    expect(typed('teachingSets', modern).subjectId).toBe('22');
    expect(
      typed(
        'teachingSetLists',
        el('SetList', { Id: '1', PupilId: '7' }, [leaf('SetId', '5', { Legacy: 'True' })]),
      ).setId,
    ).toBe('5');
  });

  it('matches casing drifts case-insensitively and trims / blanks values', () => {
    const raw = el('Pupil', { ID: ' 7 ' }, [
      leaf('PreferredName', ' Olly '),
      leaf('MiddleNames', 'J'),
      leaf('FullName', '  \u0020'),
      leaf('EMAILADDRESS', ''),
    ]);
    expect(typed('currentPupils', raw)).toMatchObject({
      id: '7',
      preferredName: 'Olly',
      middleName: 'J',
      fullName: undefined,
      emailAddress: undefined,
    });
    const m = el('CustomPupilGroupMembershipItem', { Id: '1', PupilId: '7' }, [leaf('CustomGroupId', '3')]);
    expect(typed('customGroupMembership', m).pupilId).toBe('7');
  });

  it('reads booleans from 1/0/True/False and Deleted groups', () => {
    const g = el('CustomPupilGroup', { Id: '1', AuthorID: '4' }, [
      leaf('Shared', 'False'),
      leaf('ExpiryDisable', '1'),
      leaf('Deleted', '1'),
    ]);
    expect(typed('customGroups', g)).toMatchObject({ shared: false, expiryDisable: true, deleted: true });
  });

  it('returns findings with stable codes instead of throwing', () => {
    const noId = toTyped('currentStaff', el('StaffMember', {}, [leaf('Surname', 'X')]));
    expect(noId).toEqual({
      ok: false,
      finding: expect.objectContaining({ code: 'ISAMS_RECORD_MISSING_ID', datasetId: 'currentStaff' }),
    });
    // A field that cannot be read no longer drops the record (issue #14): it is kept without it.
    const badBool = toTyped('currentStaff', el('StaffMember', { Id: '3' }, [leaf('TeachingStaff', 'maybe')]));
    expect(badBool).toMatchObject({
      ok: true,
      value: { id: '3', teachingStaff: undefined },
      unreadable: ['teachingStaff'],
      findings: [
        expect.objectContaining({
          code: 'ISAMS_FIELD_UNREADABLE',
          recordId: '3',
          path: 'HRManager/CurrentStaff/StaffMember/TeachingStaff',
        }),
      ],
    });
    const noPupil = toTyped('teachingSetLists', el('SetList', { Id: '3', SetId: '1' }));
    expect(noPupil.ok ? undefined : noPupil.finding.code).toBe('ISAMS_RECORD_INVALID_FIELD');
    expect(noPupil.ok ? undefined : noPupil.finding.message).toContain('pupilId');
  });
});
