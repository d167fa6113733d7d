/**
 * The simulated iSAMS database of one school. Field names follow the Batch API elements
 * (reference §2.2). Convention used throughout: `undefined` = SQL NULL (element/attribute omitted
 * in the output), `''` = empty string (empty element `<X/>`). Derived values (house names on
 * pupils, legacy user codes, division names) are looked up when rows are rendered, so mutations
 * only touch one record.
 */

export type SchoolSize = 'small' | 'medium' | 'large';

/** iSAMS system status: 1 current, 0 future ("to start"), -1 leaver (reference §1.2). */
export type SystemStatus = 1 | 0 | -1;

export interface Role {
  id: number;
  name: string;
}

export interface StaffMember {
  id: number;
  personId: number;
  personGuid: string;
  previousMisId?: string;
  initials: string;
  userCode: string;
  userName?: string;
  title: string;
  forename: string;
  middleNames: string;
  surname: string;
  fullName: string;
  nameInitials: string;
  preferredName: string;
  salutation: string;
  dob?: string;
  gender?: string;
  schoolEmailAddress?: string;
  schoolMobileNumber: string;
  personalMobileNumber: string;
  teachingStaff: boolean;
  roles: Role[];
  divisionIds: number[];
  /** False for staff who left but are still referenced (form tutors, set teachers). */
  current: boolean;
}

export interface Pupil {
  id: number;
  personId: number;
  personGuid: string;
  divisionId?: number;
  academicHouseId?: number;
  boardingHouseId?: number;
  upn?: string;
  schoolCode: string;
  schoolId: string;
  userCode?: string;
  userName?: string;
  title: string;
  forename: string;
  surname: string;
  middlename: string;
  initials: string;
  preferredname?: string;
  fullname: string;
  gender: string;
  dob: string;
  /** Form name; may match no form (reference §4.8). */
  form?: string;
  ncYear: number;
  emailAddress?: string;
  mobileNumber?: string;
  pupilType: string;
  enrolmentDate: string;
  enrolmentTerm?: string;
  enrolmentSchoolYear?: number;
  familyId: number;
  nationalities: string;
  languages: string;
  ethnicity?: string;
  status: SystemStatus;
}

export interface ContactPerson {
  personId: number;
  title: string;
  forename: string;
  middleNames: string;
  surname: string;
  emailAddress?: string;
  mobile?: string;
  profession?: string;
}

export interface ContactAddress {
  lines: string[];
  town?: string;
  postcode?: string;
  country?: string;
}

export interface ContactPupilLink {
  pupilId: number;
}

/** One iSAMS contact record; a joint contact ("Parents") holds two people. */
export interface Contact {
  id: number;
  people: ContactPerson[];
  relationshipRaw: string;
  address?: ContactAddress;
  telephone?: string;
  mailMergeAll: boolean;
  correspondenceMailMerge: boolean;
  pupils: ContactPupilLink[];
}

export interface House {
  id: number;
  type: 'Academic' | 'Boarding';
  houseMasterId?: number;
  assistantHouseMasterId?: number;
  name: string;
  code: string;
  sex?: string;
  address1?: string;
  town?: string;
  postcode?: string;
  telephone?: string;
  primaryEmail?: string;
}

export interface Form {
  /** The form name/code; it is the form's id. */
  id: string;
  tutorId?: number;
  assistantTutorId?: number;
  secondAssistantTutorId?: number;
  yearId: number;
  roomId?: number;
  authorId: number;
  emailAddress: string;
  website: string;
  lastUpdated: string;
}

export interface Year {
  id: number;
  authorId: number;
  tutorId?: number;
  assistantTutorId?: number;
  name: string;
  code: string;
  email: string;
  website: string;
  lastUpdated: string;
}

export interface DivisionYear {
  id: number;
  yearId: number;
}

export interface Division {
  id: number;
  name: string;
  code: string;
  lastUpdated: string;
  years: DivisionYear[];
}

export interface Subject {
  id: number;
  name: string;
  code: string;
}

export interface Department {
  id: number;
  name: string;
  subjectIds: number[];
}

export interface TeachingForm {
  id: number;
  formCode: string;
  timetableCode: string;
  subjectId: number;
}

export interface SetTeacher {
  id: number;
  staffId: number;
  primary: boolean;
}

export interface TeachingSet {
  id: number;
  subjectId: number;
  yearId: number;
  authorId: number;
  setNumber: number;
  block: string;
  setCode: string;
  name: string;
  teachers: SetTeacher[];
  description: string;
  lastUpdated: string;
}

export interface SetListRow {
  id: number;
  setId: number;
  pupilId: number;
  authorId: number;
  /** Legacy author user code; '' renders an empty element. */
  author: string;
  lastUpdated: string;
}

export interface CustomGroupCategory {
  id: number;
  name: string;
}

export interface CustomGroup {
  id: number;
  authorId: number;
  name: string;
  categoryId: number;
  shared: boolean;
  expiryDate: string;
  expiryDisable: boolean;
  /** Staff user code of the owner (legacy element). */
  author: string;
  deleted: boolean;
}

export interface CustomGroupMembership {
  id: number;
  pupilId: number;
  customGroupId: number;
}

export interface SchoolModel {
  schoolName: string;
  /** iSAMS user code of the admin account used as legacy `Author`. */
  adminUserCode: string;
  staff: StaffMember[];
  pupils: Pupil[];
  contacts: Contact[];
  academicHouses: House[];
  boardingHouses: House[];
  forms: Form[];
  years: Year[];
  divisions: Division[];
  departments: Department[];
  subjects: Subject[];
  teachingForms: TeachingForm[];
  sets: TeachingSet[];
  setLists: SetListRow[];
  customGroupCategories: CustomGroupCategory[];
  customGroups: CustomGroup[];
  memberships: CustomGroupMembership[];
  /** Next free database id per table; mutations allocate from here. */
  nextId: Record<string, number>;
}
