import type { DatasetId } from '../datasets';
import type { RawElement } from '../raw-element';
import { attr, attrOrElement, child, children, clean, text } from './raw-access';

type Extracted = Record<string, unknown>;

const a = (el: RawElement, name: string): string | undefined => clean(attr(el, name));
/** First non-blank of several element spellings (known casing/name drifts). */
const t = (el: RawElement, ...names: string[]): string | undefined => {
  for (const n of names) {
    const v = text(el, n);
    if (v !== undefined) return v;
  }
  return undefined;
};
const items = (el: RawElement, list: string, item: string): RawElement[] => {
  const c = child(el, list);
  return c === undefined ? [] : children(c, item);
};
const named = (el: RawElement, list: string, item: string) =>
  items(el, list, item).map((x) => ({ id: a(x, 'Id'), name: t(x, 'Name') }));

function staff(el: RawElement): Extracted {
  return {
    id: a(el, 'Id'),
    personId: a(el, 'PersonId'),
    personGuid: a(el, 'PersonGuid'),
    previousMisId: t(el, 'PreviousMISId'),
    initials: t(el, 'Initials'),
    userCode: t(el, 'UserCode'),
    userName: t(el, 'UserName'),
    title: t(el, 'Title'),
    forename: t(el, 'Forename'),
    middleNames: t(el, 'MiddleNames', 'Middlename'),
    surname: t(el, 'Surname'),
    fullName: t(el, 'FullName'),
    nameInitials: t(el, 'NameInitials'),
    preferredName: t(el, 'PreferredName'),
    salutation: t(el, 'Salutation'),
    dob: t(el, 'DOB'),
    gender: t(el, 'Gender'),
    schoolEmailAddress: t(el, 'SchoolEmailAddress'),
    schoolMobileNumber: t(el, 'SchoolMobileNumber'),
    personalMobileNumber: t(el, 'PersonalMobileNumber'),
    teachingStaff: t(el, 'TeachingStaff'),
    leavingDate: t(el, 'LeavingDate'),
    roles: named(el, 'Roles', 'Role'),
    divisions: named(el, 'Divisions', 'Division'),
  };
}

function pupil(el: RawElement): Extracted {
  return {
    id: a(el, 'Id'),
    personId: a(el, 'PersonId'),
    personGuid: a(el, 'PersonGuid'),
    divisionId: a(el, 'DivisionId'),
    academicHouseId: a(el, 'AcademicHouseId'),
    boardingHouseId: a(el, 'BoardingHouseId'),
    upn: t(el, 'UPN'),
    schoolCode: t(el, 'SchoolCode'),
    schoolId: t(el, 'SchoolId'),
    userCode: t(el, 'UserCode'),
    userName: t(el, 'UserName'),
    title: t(el, 'Title'),
    forename: t(el, 'Forename'),
    surname: t(el, 'Surname'),
    middleName: t(el, 'Middlename', 'MiddleNames'),
    initials: t(el, 'Initials'),
    preferredName: t(el, 'Preferredname'),
    fullName: t(el, 'Fullname'),
    gender: t(el, 'Gender'),
    dob: t(el, 'DOB'),
    academicHouse: t(el, 'AcademicHouse'),
    boardingHouse: t(el, 'BoardingHouse'),
    form: t(el, 'Form'),
    ncYear: t(el, 'NCYear', 'NationalCurriculumYear'),
    divisionName: t(el, 'DivisionName'),
    emailAddress: t(el, 'EmailAddress'),
    mobileNumber: t(el, 'MobileNumber'),
    pupilType: t(el, 'PupilType'),
    enrolmentDate: t(el, 'EnrolmentDate'),
    enrolmentTerm: t(el, 'EnrolmentTerm'),
    enrolmentSchoolYear: t(el, 'EnrolmentSchoolYear'),
    familyId: t(el, 'FamilyId'),
    nationalities: t(el, 'Nationalities'),
    languages: t(el, 'Languages'),
    tutorUserCode: t(el, 'Tutor'),
    ethnicity: t(el, 'Ethnicity'),
  };
}

function contact(el: RawElement): Extracted {
  const email = t(el, 'EmailAddress');
  const address = child(el, 'Address');
  const lines = address === undefined ? undefined : child(address, 'AddressLines');
  return {
    id: a(el, 'Id'),
    personId: a(el, 'PersonId'),
    isFirstPersonContact: a(el, 'IsFirstPersonContact') ?? t(el, 'IsFirstPersonContact'),
    title: t(el, 'Title'),
    forename: t(el, 'Forename'),
    middleNames: t(el, 'MiddleNames', 'Middlename'),
    surname: t(el, 'Surname'),
    relationship: t(el, 'RelationshipRaw', 'Relationship'),
    emailAddress: email,
    emailAddresses: email === undefined ? [] : email.split(/[;,\s]+/).filter((e) => e.length > 0),
    telephone: t(el, 'Telephone'),
    mobile: t(el, 'Mobile'),
    profession: t(el, 'Profession'),
    address: {
      lines: (lines?.children ?? []).map((l) => clean(l.text)).filter((l): l is string => l !== undefined),
      town: address && t(address, 'Town'),
      county: address && t(address, 'County'),
      postcode: address && t(address, 'Postcode'),
      country: address && t(address, 'Country'),
    },
    mailMergeAll: t(el, 'MailMergeAll'),
    correspondenceMailMerge: t(el, 'CorrespondenceMailMerge'),
    pupils: items(el, 'Pupils', 'Pupil').map((p) => ({
      id: a(p, 'Id'),
      schoolId: attrOrElement(p, 'SchoolId'),
      status: t(p, 'Status'),
    })),
  };
}

function customGroup(el: RawElement): Extracted {
  return {
    id: a(el, 'Id'),
    authorId: a(el, 'AuthorID'),
    name: t(el, 'Name'),
    categoryId: attrOrElement(el, 'CategoryId'),
    shared: t(el, 'Shared'),
    expiryDate: t(el, 'ExpiryDate'),
    expiryDisable: t(el, 'ExpiryDisable'),
    authorUserCode: t(el, 'Author'),
    deleted: /^(1|true)$/i.test(t(el, 'Deleted') ?? a(el, 'Deleted') ?? ''),
  };
}

function membership(el: RawElement): Extracted {
  return {
    id: a(el, 'Id'),
    pupilId: attrOrElement(el, 'PupilID'),
    customGroupId: attrOrElement(el, 'CustomGroupId'),
  };
}

function house(el: RawElement): Extracted {
  return {
    id: a(el, 'Id'),
    houseMasterId: a(el, 'HouseMasterId'),
    assistantHouseMasterId: a(el, 'AssistantHouseMasterId'),
    houseMasterUserCode: t(el, 'HouseMaster'),
    assistantHouseMasterUserCode: t(el, 'AssistantHouseMaster'),
    name: t(el, 'Name'),
    code: t(el, 'Code'),
    type: t(el, 'Type'),
    sex: t(el, 'Sex'),
    address1: t(el, 'Address1'),
    address2: t(el, 'Address2'),
    address3: t(el, 'Address3'),
    town: t(el, 'Town'),
    county: t(el, 'County'),
    country: t(el, 'Country'),
    postcode: t(el, 'Postcode'),
    telephone: t(el, 'Telephone'),
    fax: t(el, 'Fax'),
    primaryEmail: t(el, 'PrimaryEmail'),
    secondaryEmail: t(el, 'SecondaryEmail'),
    website: t(el, 'Website'),
  };
}

function form(el: RawElement): Extracted {
  const idAttr = a(el, 'Id');
  return {
    id: idAttr,
    tutorId: a(el, 'TutorId'),
    assistantTutorId: a(el, 'AssistantTutorId'),
    secondAssistantTutorId: a(el, 'SecondAssistantTutorId'),
    yearId: a(el, 'YearId') ?? t(el, 'NationalCurriculumYear'),
    roomId: attrOrElement(el, 'RoomId'),
    authorId: a(el, 'AuthorId'),
    tutorUserCode: t(el, 'Tutor'),
    assistantTutorUserCode: t(el, 'AssistantFormTutor'),
    secondAssistantTutorUserCode: t(el, 'SecondAssistantFormTutor'),
    name: t(el, 'Form') ?? idAttr,
    emailAddress: t(el, 'EmailAddress'),
    website: t(el, 'Website'),
    lastUpdated: t(el, 'LastUpdated'),
  };
}

function division(el: RawElement): Extracted {
  return {
    id: a(el, 'Id'),
    name: t(el, 'Name'),
    code: t(el, 'Code'),
    lastUpdated: t(el, 'LastUpdated'),
    authorUserCode: t(el, 'Author'),
    years: items(el, 'Years', 'Year').map((y) => ({
      id: a(y, 'Id'),
      yearId: a(y, 'YearId') ?? t(y, 'NationalCurriculumYear'),
    })),
  };
}

function year(el: RawElement): Extracted {
  return {
    id: a(el, 'Id') ?? t(el, 'NationalCurriculumYear'),
    tutorId: a(el, 'TutorId'),
    assistantTutorId: a(el, 'AssistantTutorId'),
    authorId: a(el, 'AuthorId'),
    tutorUserCode: t(el, 'Tutor'),
    assistantTutorUserCode: t(el, 'AssistantTutor'),
    name: t(el, 'Name'),
    code: t(el, 'Code'),
    email: t(el, 'Email'),
    website: t(el, 'Website'),
    lastUpdated: t(el, 'LastUpdated'),
  };
}

function department(el: RawElement): Extracted {
  return {
    id: a(el, 'Id'),
    name: t(el, 'Name'),
    subjects: items(el, 'Subjects', 'Subject').map((s) => ({
      id: a(s, 'Id'),
      name: t(s, 'Name'),
      code: t(s, 'Code'),
    })),
  };
}

function teachingForm(el: RawElement): Extracted {
  return {
    id: a(el, 'Id'),
    formCode: t(el, 'FormCode'),
    timetableCode: t(el, 'TimetableCode'),
    subjectId: t(el, 'SubjectId') ?? a(el, 'SubjectId'),
  };
}

function set(el: RawElement): Extracted {
  return {
    id: a(el, 'Id'),
    subjectId: attrOrElement(el, 'SubjectId'),
    yearId: attrOrElement(el, 'YearId'),
    authorId: a(el, 'AuthorId'),
    primaryTeacherUserCode: t(el, 'Teacher'),
    authorUserCode: t(el, 'Author'),
    setNumber: t(el, 'SetNumber'),
    block: t(el, 'Block'),
    setCode: t(el, 'SetCode'),
    name: t(el, 'Name'),
    teachers: items(el, 'Teachers', 'Teacher').map((x) => ({
      id: a(x, 'Id'),
      staffId: a(x, 'StaffId'),
      primaryTeacher: a(x, 'PrimaryTeacher'),
    })),
    description: t(el, 'Description'),
    lastUpdated: t(el, 'LastUpdated'),
  };
}

function setList(el: RawElement): Extracted {
  return {
    id: a(el, 'Id'),
    setId: attrOrElement(el, 'SetId'),
    pupilId: attrOrElement(el, 'PupilId'),
    schoolId: t(el, 'SchoolId'),
    authorId: a(el, 'AuthorId'),
    lastUpdated: t(el, 'LastUpdated'),
  };
}

/** Per dataset: pulls the typed view's fields out of a raw record (tolerantly, no validation). */
export const EXTRACTORS: Readonly<Record<DatasetId, (el: RawElement) => Extracted>> = {
  currentStaff: staff,
  contacts: contact,
  currentPupils: pupil,
  customGroupMembership: membership,
  customGroups: customGroup,
  academicHouses: house,
  boardingHouses: house,
  schoolForms: form,
  schoolDivisions: division,
  yearGroups: year,
  departmentsAndSubjects: department,
  teachingForms: teachingForm,
  teachingSets: set,
  teachingSetLists: setList,
};
