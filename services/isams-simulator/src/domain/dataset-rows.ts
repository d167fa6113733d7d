import type { DatasetId, RawElement } from './isams-lib';
import type {
  Contact,
  CustomGroup,
  Department,
  Division,
  Form,
  House,
  Pupil,
  SchoolModel,
  StaffMember,
  Subject,
  TeachingSet,
  Year,
} from './school-model';

/** Value of a field: `undefined` = NULL (omitted), `''` = empty element, otherwise text. */
type Value = string | number | undefined;

function str(v: Value): string | undefined {
  return v === undefined ? undefined : String(v);
}

/** Builds an element; `''` text becomes an element without text (`<X/>`). */
export function el(
  name: string,
  attributes: Record<string, Value> = {},
  text?: Value,
  children: RawElement[] = [],
): RawElement {
  const attrs: Record<string, string> = {};
  for (const [k, v] of Object.entries(attributes)) if (v !== undefined) attrs[k] = String(v);
  const t = str(text);
  return t === undefined || t === ''
    ? { name, attributes: attrs, children }
    : { name, attributes: attrs, text: t, children };
}

/** A data element, omitted entirely when the value is NULL. */
function opt(name: string, value: Value): RawElement[] {
  return value === undefined ? [] : [el(name, {}, value)];
}

/** A `Legacy="True"` element; a NULL value still yields the (empty) legacy element, as in the samples. */
function legacy(name: string, value: Value): RawElement {
  return el(name, { Legacy: 'True' }, value ?? '');
}

const bit = (b: boolean): string => (b ? '1' : '0');
const trueFalse = (b: boolean): string => (b ? 'True' : 'False');

/** Lookups used to render cross-references (legacy user codes, house and division names). */
interface Lookups {
  staffById: Map<number, StaffMember>;
  housesById: Map<number, House>;
  pupilsById: Map<number, Pupil>;
  divisionNames: Map<number, string>;
  formTutor: Map<string, number | undefined>;
}

function lookups(model: SchoolModel): Lookups {
  return {
    staffById: new Map(model.staff.map((s) => [s.id, s])),
    housesById: new Map([...model.academicHouses, ...model.boardingHouses].map((h) => [h.id, h])),
    pupilsById: new Map(model.pupils.map((p) => [p.id, p])),
    divisionNames: new Map(model.divisions.map((d) => [d.id, d.name])),
    formTutor: new Map(model.forms.map((f) => [f.id, f.tutorId])),
  };
}

function userCode(l: Lookups, staffId: number | undefined): string | undefined {
  return staffId === undefined ? undefined : l.staffById.get(staffId)?.userCode;
}

function staffRow(s: StaffMember, l: Lookups): RawElement {
  return el('StaffMember', { Id: s.id, PersonId: s.personId, PersonGuid: s.personGuid }, undefined, [
    ...opt('PreviousMISId', s.previousMisId),
    el('Initials', {}, s.initials),
    el('UserCode', {}, s.userCode),
    ...opt('UserName', s.userName),
    el('Title', {}, s.title),
    el('Forename', {}, s.forename),
    el('MiddleNames', {}, s.middleNames),
    el('Surname', {}, s.surname),
    el('FullName', {}, s.fullName),
    el('NameInitials', {}, s.nameInitials),
    el('PreferredName', {}, s.preferredName),
    el('Salutation', {}, s.salutation),
    ...opt('DOB', s.dob),
    ...opt('Gender', s.gender),
    ...opt('SchoolEmailAddress', s.schoolEmailAddress),
    el('SchoolMobileNumber', {}, s.schoolMobileNumber),
    el('PersonalMobileNumber', {}, s.personalMobileNumber),
    el('TeachingStaff', {}, bit(s.teachingStaff)),
    ...(s.roles.length > 0
      ? [
          el(
            'Roles',
            {},
            undefined,
            s.roles.map((r) => el('Role', { Id: r.id }, undefined, [el('Name', {}, r.name)])),
          ),
        ]
      : []),
    ...(s.divisionIds.length > 0
      ? [
          el(
            'Divisions',
            {},
            undefined,
            s.divisionIds.map((id) =>
              el('Division', { Id: id }, undefined, [el('Name', {}, l.divisionNames.get(id) ?? '')]),
            ),
          ),
        ]
      : []),
  ]);
}

function pupilRow(p: Pupil, l: Lookups): RawElement {
  const tutorId = p.form === undefined ? undefined : l.formTutor.get(p.form);
  return el(
    'Pupil',
    {
      Id: p.id,
      PersonId: p.personId,
      PersonGuid: p.personGuid,
      DivisionId: p.divisionId,
      AcademicHouseId: p.academicHouseId,
      BoardingHouseId: p.boardingHouseId,
    },
    undefined,
    [
      ...opt('UPN', p.upn),
      el('SchoolCode', {}, p.schoolCode),
      el('SchoolId', {}, p.schoolId),
      ...opt('UserCode', p.userCode),
      ...opt('UserName', p.userName),
      el('Title', {}, p.title),
      el('Forename', {}, p.forename),
      el('Surname', {}, p.surname),
      el('Middlename', {}, p.middlename),
      el('Initials', {}, p.initials),
      ...opt('Preferredname', p.preferredname),
      el('Fullname', {}, p.fullname),
      el('Gender', {}, p.gender),
      el('DOB', {}, p.dob),
      ...opt(
        'AcademicHouse',
        p.academicHouseId === undefined ? undefined : l.housesById.get(p.academicHouseId)?.name,
      ),
      ...opt(
        'BoardingHouse',
        p.boardingHouseId === undefined ? undefined : l.housesById.get(p.boardingHouseId)?.name,
      ),
      ...opt('Form', p.form),
      el('NCYear', {}, p.ncYear),
      ...opt('DivisionName', p.divisionId === undefined ? undefined : l.divisionNames.get(p.divisionId)),
      ...opt('EmailAddress', p.emailAddress),
      ...opt('MobileNumber', p.mobileNumber),
      el('PupilType', {}, p.pupilType),
      el('EnrolmentDate', {}, p.enrolmentDate),
      ...opt('EnrolmentTerm', p.enrolmentTerm),
      ...opt('EnrolmentSchoolYear', p.enrolmentSchoolYear),
      el('FamilyId', {}, p.familyId),
      el('Nationalities', {}, p.nationalities),
      el('Languages', {}, p.languages),
      ...opt('Tutor', userCode(l, tutorId)),
      ...opt('Ethnicity', p.ethnicity),
    ],
  );
}

// ASSUMED ([U] in reference §2.2.3): a joint contact is emitted as one <Contact> row per person,
// both rows sharing the record's Id, told apart by PersonId and IsFirstPersonContact.
// ASSUMED ([U] in reference §2.2.3): Pupils/Pupil/Status is "Current" (1), "Applicant" (0) or "Former" (-1).
const STATUS_TEXT: Record<number, string> = { 1: 'Current', 0: 'Applicant', [-1]: 'Former' };

function contactRows(c: Contact, l: Lookups): RawElement[] {
  return c.people.map((person, index) =>
    el(
      'Contact',
      { Id: c.id, PersonId: person.personId, IsFirstPersonContact: trueFalse(index === 0) },
      undefined,
      [
        el('Title', {}, person.title),
        el('Forename', {}, person.forename),
        el('MiddleNames', {}, person.middleNames),
        el('Surname', {}, person.surname),
        el('RelationshipRaw', {}, c.relationshipRaw),
        ...(c.address
          ? [
              el('Address', {}, undefined, [
                el(
                  'AddressLines',
                  {},
                  undefined,
                  c.address.lines.map((line, i) => el(`Address${i + 1}`, {}, line)),
                ),
                ...opt('Town', c.address.town),
                ...opt('Postcode', c.address.postcode),
                ...opt('Country', c.address.country),
              ]),
            ]
          : []),
        ...opt('Telephone', c.telephone),
        ...opt('Mobile', person.mobile),
        ...opt('EmailAddress', person.emailAddress),
        ...opt('Profession', person.profession),
        el('MailMergeAll', {}, bit(c.mailMergeAll)),
        el('CorrespondenceMailMerge', {}, bit(c.correspondenceMailMerge)),
        ...(c.pupils.length > 0
          ? [
              el(
                'Pupils',
                {},
                undefined,
                c.pupils.map((link) => {
                  const pupil = l.pupilsById.get(link.pupilId);
                  return el('Pupil', { Id: link.pupilId }, undefined, [
                    ...(pupil ? [legacy('SchoolId', pupil.schoolId)] : []),
                    ...opt('Status', pupil ? STATUS_TEXT[pupil.status] : undefined),
                  ]);
                }),
              ),
            ]
          : []),
      ],
    ),
  );
}

function houseRow(h: House, l: Lookups): RawElement {
  return el(
    'House',
    { Id: h.id, HouseMasterId: h.houseMasterId, AssistantHouseMasterId: h.assistantHouseMasterId },
    undefined,
    [
      legacy('HouseMaster', userCode(l, h.houseMasterId)),
      legacy('AssistantHouseMaster', userCode(l, h.assistantHouseMasterId)),
      el('Name', {}, h.name),
      el('Code', {}, h.code),
      el('Type', {}, h.type),
      ...opt('Sex', h.sex),
      ...opt('Address1', h.address1),
      ...opt('Town', h.town),
      ...opt('Postcode', h.postcode),
      ...opt('Telephone', h.telephone),
      ...opt('PrimaryEmail', h.primaryEmail),
    ],
  );
}

function customGroupRow(g: CustomGroup): RawElement {
  return el('CustomPupilGroup', { Id: g.id, AuthorID: g.authorId }, undefined, [
    el('Name', {}, g.name),
    el('CategoryId', {}, g.categoryId),
    el('Shared', {}, bit(g.shared)),
    el('ExpiryDate', {}, g.expiryDate),
    el('ExpiryDisable', {}, bit(g.expiryDisable)),
    legacy('Author', g.author),
    // ASSUMED ([I] in reference §2.2.4): <Deleted>1</Deleted> only on deleted groups.
    ...(g.deleted ? [el('Deleted', {}, '1')] : []),
  ]);
}

function formRow(f: Form, l: Lookups, admin: string): RawElement {
  return el(
    'Form',
    {
      Id: f.id,
      TutorId: f.tutorId,
      AssistantTutorId: f.assistantTutorId,
      SecondAssistantTutorId: f.secondAssistantTutorId,
      YearId: f.yearId,
      RoomId: f.roomId,
      AuthorId: f.authorId,
    },
    undefined,
    [
      legacy('Tutor', userCode(l, f.tutorId)),
      legacy('AssistantFormTutor', userCode(l, f.assistantTutorId)),
      legacy('SecondAssistantFormTutor', userCode(l, f.secondAssistantTutorId)),
      legacy('NationalCurriculumYear', f.yearId),
      legacy('RoomId', f.roomId),
      legacy('Author', admin),
      el('Form', {}, f.id),
      el('EmailAddress', {}, f.emailAddress),
      el('Website', {}, f.website),
      el('LastUpdated', {}, f.lastUpdated),
    ],
  );
}

function divisionRow(d: Division, admin: string): RawElement {
  return el('SchoolDivision', { Id: d.id }, undefined, [
    legacy('Author', admin),
    el('Name', {}, d.name),
    el('Code', {}, d.code),
    el('LastUpdated', {}, d.lastUpdated),
    ...(d.years.length > 0
      ? [
          el(
            'Years',
            {},
            undefined,
            d.years.map((y) =>
              el('Year', { Id: y.id, YearId: y.yearId }, undefined, [
                legacy('NationalCurriculumYear', y.yearId),
                legacy('Author', ''),
              ]),
            ),
          ),
        ]
      : []),
  ]);
}

function yearRow(y: Year, l: Lookups, admin: string): RawElement {
  return el(
    'Year',
    { Id: y.id, AuthorId: y.authorId, TutorId: y.tutorId, AssistantTutorId: y.assistantTutorId },
    undefined,
    [
      legacy('NationalCurriculumYear', y.id),
      legacy('Tutor', userCode(l, y.tutorId)),
      legacy('AssistantTutor', userCode(l, y.assistantTutorId)),
      legacy('Author', admin),
      el('Name', {}, y.name),
      el('Code', {}, y.code),
      el('Email', {}, y.email),
      el('Website', {}, y.website),
      el('LastUpdated', {}, y.lastUpdated),
    ],
  );
}

function departmentRow(d: Department, subjectsById: Map<number, Subject>): RawElement {
  return el('Department', { Id: d.id }, undefined, [
    el('Name', {}, d.name),
    ...(d.subjectIds.length > 0
      ? [
          el(
            'Subjects',
            {},
            undefined,
            d.subjectIds.flatMap((id) => {
              const s = subjectsById.get(id);
              return s
                ? [el('Subject', { Id: s.id }, undefined, [el('Name', {}, s.name), el('Code', {}, s.code)])]
                : [];
            }),
          ),
        ]
      : []),
  ]);
}

function setRow(s: TeachingSet, l: Lookups, admin: string): RawElement {
  const primary = s.teachers.find((t) => t.primary) ?? s.teachers[0];
  return el('Set', { Id: s.id, SubjectId: s.subjectId, YearId: s.yearId, AuthorId: s.authorId }, undefined, [
    legacy('SubjectId', s.subjectId),
    legacy('YearId', s.yearId),
    legacy('Teacher', userCode(l, primary?.staffId)),
    legacy('Author', admin),
    el('SetNumber', {}, s.setNumber),
    el('Block', {}, s.block),
    el('SetCode', {}, s.setCode),
    el('Name', {}, s.name),
    ...(s.teachers.length > 0
      ? [
          el(
            'Teachers',
            {},
            undefined,
            s.teachers.map((t) =>
              el('Teacher', { Id: t.id, StaffId: t.staffId, PrimaryTeacher: trueFalse(t.primary) }),
            ),
          ),
        ]
      : []),
    el('Description', {}, s.description),
    el('LastUpdated', {}, s.lastUpdated),
  ]);
}

/**
 * THE ground truth: the rows (row elements) of every dataset, exactly as the Batch API document
 * carries them. A correct parser of the served XML or JSON must reproduce these.
 */
export function toDatasetRows(model: SchoolModel): Record<DatasetId, RawElement[]> {
  const l = lookups(model);
  const admin = model.adminUserCode;
  const subjectsById = new Map(model.subjects.map((s) => [s.id, s]));
  return {
    currentStaff: model.staff.filter((s) => s.current).map((s) => staffRow(s, l)),
    contacts: model.contacts.flatMap((c) => contactRows(c, l)),
    currentPupils: model.pupils.filter((p) => p.status === 1).map((p) => pupilRow(p, l)),
    customGroupMembership: model.memberships.map((m) =>
      el('CustomPupilGroupMembershipItem', { Id: m.id, PupilID: m.pupilId }, undefined, [
        el('CustomGroupId', {}, m.customGroupId),
      ]),
    ),
    customGroups: model.customGroups.map(customGroupRow),
    academicHouses: model.academicHouses.map((h) => houseRow(h, l)),
    boardingHouses: model.boardingHouses.map((h) => houseRow(h, l)),
    schoolForms: model.forms.map((f) => formRow(f, l, admin)),
    schoolDivisions: model.divisions.map((d) => divisionRow(d, admin)),
    yearGroups: model.years.map((y) => yearRow(y, l, admin)),
    departmentsAndSubjects: model.departments.map((d) => departmentRow(d, subjectsById)),
    teachingForms: model.teachingForms.map((t) =>
      el('TeachingForm', { Id: t.id }, undefined, [
        el('FormCode', {}, t.formCode),
        el('TimetableCode', {}, t.timetableCode),
        el('SubjectId', {}, t.subjectId),
      ]),
    ),
    teachingSets: model.sets.map((s) => setRow(s, l, admin)),
    teachingSetLists: model.setLists.map((r) =>
      el('SetList', { Id: r.id, SetId: r.setId, PupilId: r.pupilId, AuthorId: r.authorId }, undefined, [
        legacy('SetId', r.setId),
        legacy('SchoolId', l.pupilsById.get(r.pupilId)?.schoolId ?? ''),
        legacy('Author', r.author),
        el('LastUpdated', {}, r.lastUpdated),
      ]),
    ),
  };
}
