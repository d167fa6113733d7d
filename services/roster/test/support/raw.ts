import type { RawElement } from '@isams-sync/isams';

/** Builds a raw element: `el('Pupil', { Id: '1' }, [el('Forename', {}, 'Ann')])` or with text. */
export function el(
  name: string,
  attributes: Record<string, string> = {},
  content: string | RawElement[] = [],
): RawElement {
  return typeof content === 'string'
    ? { name, attributes, text: content, children: [] }
    : { name, attributes, children: content };
}
const t = (name: string, value: string): RawElement => el(name, {}, value);

export const staff = (
  id: string,
  userCode: string,
  extra: RawElement[] = [],
  attrs: Record<string, string> = {},
): RawElement =>
  el('StaffMember', { Id: id, PersonId: `9${id}`, ...attrs }, [
    t('UserCode', userCode),
    t('Forename', `F${id}`),
    t('Surname', `S${id}`),
    t('TeachingStaff', '1'),
    ...extra,
  ]);

export const pupil = (id: string, extra: RawElement[] = [], attrs: Record<string, string> = {}): RawElement =>
  el('Pupil', { Id: id, PersonId: `8${id}`, ...attrs }, [
    t('SchoolId', `10${id}`),
    t('Forename', `P${id}`),
    t('Surname', `Q${id}`),
    ...extra,
  ]);

export const year = (id: string, name: string): RawElement => el('Year', { Id: id }, [t('Name', name)]);
export const form = (id: string, yearId: string, tutorId?: string): RawElement =>
  el('Form', { Id: id, YearId: yearId, ...(tutorId ? { TutorId: tutorId } : {}) }, [t('Form', id)]);
export const house = (id: string, name: string): RawElement => el('House', { Id: id }, [t('Name', name)]);
export const division = (id: string, name: string, years: string[]): RawElement =>
  el('SchoolDivision', { Id: id }, [
    t('Name', name),
    el(
      'Years',
      {},
      years.map((y, i) => el('Year', { Id: `${id}${i}`, YearId: y })),
    ),
  ]);
export const department = (id: string, subjects: [string, string][]): RawElement =>
  el('Department', { Id: id }, [
    t('Name', `D${id}`),
    el(
      'Subjects',
      {},
      subjects.map(([sid, name]) => el('Subject', { Id: sid }, [t('Name', name)])),
    ),
  ]);
export const set = (id: string, subjectId: string, teachers: [string, boolean][]): RawElement =>
  el('Set', { Id: id, SubjectId: subjectId, YearId: '9' }, [
    t('SetCode', `9/S${id}`),
    t('Name', `9/S${id}`),
    el(
      'Teachers',
      {},
      teachers.map(([staffId, primary], i) =>
        el('Teacher', { Id: `${id}${i}`, StaffId: staffId, PrimaryTeacher: primary ? 'True' : 'False' }),
      ),
    ),
  ]);
export const setList = (id: string, setId: string, pupilId: string): RawElement =>
  el('SetList', { Id: id, SetId: setId, PupilId: pupilId });
export const contact = (
  id: string,
  personId: string | undefined,
  first: boolean,
  pupils: [string, string][],
  forename = `C${personId}`,
): RawElement =>
  el(
    'Contact',
    { Id: id, ...(personId ? { PersonId: personId } : {}), IsFirstPersonContact: first ? 'True' : 'False' },
    [
      t('Forename', forename),
      t('Surname', 'Family'),
      t('RelationshipRaw', first ? 'Mother' : 'Father'),
      el(
        'Pupils',
        {},
        pupils.map(([pid, status]) => el('Pupil', { Id: pid }, [t('Status', status)])),
      ),
    ],
  );
export const group = (
  id: string,
  name: string,
  opts: { deleted?: boolean; expiry?: string } = {},
): RawElement =>
  el('CustomPupilGroup', { Id: id, AuthorID: '1' }, [
    t('Name', name),
    ...(opts.expiry ? [t('ExpiryDate', opts.expiry)] : []),
    t('ExpiryDisable', '0'),
    ...(opts.deleted ? [t('Deleted', '1')] : []),
  ]);
export const groupMember = (id: string, groupId: string, pupilId: string): RawElement =>
  el('CustomPupilGroupMembershipItem', { Id: id, PupilID: pupilId }, [t('CustomGroupId', groupId)]);
export const teachingForm = (id: string, formCode: string, subjectId: string): RawElement =>
  el('TeachingForm', { Id: id }, [t('FormCode', formCode), t('SubjectId', subjectId)]);

/** A small but complete school: every dataset present. */
export function smallSchool(): Record<string, RawElement[]> {
  return {
    currentStaff: [staff('1', 'UC1'), staff('2', 'UC2'), staff('3', 'UC3', [], {})],
    yearGroups: [year('9', 'Year 9'), year('10', 'Year 10')],
    schoolForms: [form('9A', '9', '1'), form('10A', '10', '2')],
    academicHouses: [house('1', 'Kestrel'), house('2', 'Falcon')],
    boardingHouses: [house('5', 'Lodge')],
    schoolDivisions: [division('3', 'Senior', ['9', '10'])],
    currentPupils: [
      pupil('100', [t('Form', '9A'), t('NCYear', '9'), t('Tutor', 'UC1'), t('AcademicHouse', 'Kestrel')], {
        DivisionId: '3',
        BoardingHouseId: '5',
      }),
      pupil('101', [t('Form', '10A'), t('NCYear', '10'), t('Tutor', 'UC2')], { AcademicHouseId: '2' }),
      pupil('102', [t('Form', '9A'), t('NCYear', '9')]),
    ],
    contacts: [
      contact('500', '5001', true, [
        ['100', 'Current'],
        ['101', 'Current'],
      ]),
      contact('500', '5002', false, [
        ['100', 'Current'],
        ['101', 'Current'],
      ]),
      contact('501', '5003', true, [['102', 'Current']]),
    ],
    departmentsAndSubjects: [
      department('1', [
        ['21', 'Maths'],
        ['22', 'Physics'],
      ]),
      department('2', [['22', 'Physics']]),
    ],
    teachingSets: [
      set('70', '21', [
        ['1', true],
        ['2', false],
      ]),
      set('71', '22', [['3', true]]),
    ],
    teachingSetLists: [setList('1', '70', '100'), setList('2', '70', '101'), setList('3', '71', '102')],
    teachingForms: [teachingForm('1', '9A', '21')],
    customGroups: [
      group('40', 'Choir'),
      group('41', 'Old club', { deleted: true }),
      group('42', 'Trip', { expiry: '2020-01-01T00:00:00' }),
    ],
    customGroupMembership: [
      groupMember('1', '40', '100'),
      groupMember('2', '41', '101'),
      groupMember('3', '42', '102'),
    ],
  };
}
