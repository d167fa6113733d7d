import { z } from 'zod';

/** Optional trimmed string (extraction already turned blank into `undefined`). */
const str = z.string().optional();
/** Required id, as the string iSAMS sends. */
const id = z.string({ error: 'required id is missing' }).min(1);
/** iSAMS booleans: `1`/`0` in some datasets, `True`/`False` in others. */
const bool = z
  .string()
  .regex(/^(1|0|true|false|yes|no)$/i, 'expected 1/0/True/False')
  .transform((v) => /^(1|true|yes)$/i.test(v))
  .optional();

const named = z.object({ id, name: str });

/** HR Manager – Current Staff. */
export const staffSchema = z.object({
  id,
  personId: str,
  personGuid: str,
  previousMisId: str,
  initials: str,
  userCode: str,
  userName: str,
  title: str,
  forename: str,
  middleNames: str,
  surname: str,
  fullName: str,
  nameInitials: str,
  preferredName: str,
  salutation: str,
  dob: str,
  gender: str,
  schoolEmailAddress: str,
  schoolMobileNumber: str,
  personalMobileNumber: str,
  teachingStaff: bool,
  leavingDate: str,
  roles: z.array(named),
  divisions: z.array(named),
});

/** Pupil Manager – Current Students. */
export const pupilSchema = z.object({
  id,
  personId: str,
  personGuid: str,
  divisionId: str,
  academicHouseId: str,
  boardingHouseId: str,
  upn: str,
  schoolCode: str,
  schoolId: str,
  userCode: str,
  userName: str,
  title: str,
  forename: str,
  surname: str,
  middleName: str,
  initials: str,
  preferredName: str,
  fullName: str,
  gender: str,
  dob: str,
  academicHouse: str,
  boardingHouse: str,
  /** Form name, = Forms/Form/@Id (may not match any form). */
  form: str,
  /** NC year, = Years/Year/@Id (may be negative). */
  ncYear: str,
  divisionName: str,
  emailAddress: str,
  mobileNumber: str,
  pupilType: str,
  enrolmentDate: str,
  enrolmentTerm: str,
  enrolmentSchoolYear: str,
  familyId: str,
  nationalities: str,
  languages: str,
  /** The form tutor's staff UserCode (not the staff Id). */
  tutorUserCode: str,
  ethnicity: str,
});

/** Pupil Manager – Contacts (Filtered). */
export const contactSchema = z.object({
  id,
  personId: str,
  isFirstPersonContact: bool,
  title: str,
  forename: str,
  middleNames: str,
  surname: str,
  relationship: str,
  emailAddress: str,
  /** `EmailAddress` split on `;`, `,` and whitespace. */
  emailAddresses: z.array(z.string()),
  telephone: str,
  mobile: str,
  profession: str,
  address: z.object({
    lines: z.array(z.string()),
    town: str,
    county: str,
    postcode: str,
    country: str,
  }),
  mailMergeAll: bool,
  correspondenceMailMerge: bool,
  pupils: z.array(z.object({ id, schoolId: str, status: str })),
});

/** Pupil Manager – Custom Groups. */
export const customGroupSchema = z.object({
  id,
  /** `@AuthorID`: an iSAMS user id, not a staff id. */
  authorId: str,
  name: str,
  categoryId: str,
  shared: bool,
  expiryDate: str,
  expiryDisable: bool,
  authorUserCode: str,
  /** `Deleted` is only present (as 1) for deleted groups. */
  deleted: z.boolean(),
});

/** Pupil Manager – Custom Group Membership. */
export const customGroupMembershipSchema = z.object({
  id,
  pupilId: id,
  customGroupId: id,
});

/** School Manager – Academic Houses and Boarding Houses. */
export const houseSchema = z.object({
  id,
  houseMasterId: str,
  assistantHouseMasterId: str,
  houseMasterUserCode: str,
  assistantHouseMasterUserCode: str,
  name: str,
  code: str,
  type: str,
  sex: str,
  address1: str,
  address2: str,
  address3: str,
  town: str,
  county: str,
  country: str,
  postcode: str,
  telephone: str,
  fax: str,
  primaryEmail: str,
  secondaryEmail: str,
  website: str,
});

/** School Manager – School Forms. `id` is the form name/code. */
export const formSchema = z.object({
  id,
  tutorId: str,
  assistantTutorId: str,
  secondAssistantTutorId: str,
  yearId: str,
  roomId: str,
  authorId: str,
  tutorUserCode: str,
  assistantTutorUserCode: str,
  secondAssistantTutorUserCode: str,
  name: str,
  emailAddress: str,
  website: str,
  lastUpdated: str,
});

/** School Manager – School Divisions. */
export const divisionSchema = z.object({
  id,
  name: str,
  code: str,
  lastUpdated: str,
  authorUserCode: str,
  /** `id` is the link-row id; `yearId` is the NC year. */
  years: z.array(z.object({ id: str, yearId: str })),
});

/** School Manager – Year Groups. `id` is the NC year number. */
export const yearSchema = z.object({
  id,
  tutorId: str,
  assistantTutorId: str,
  authorId: str,
  tutorUserCode: str,
  assistantTutorUserCode: str,
  name: str,
  code: str,
  email: str,
  website: str,
  lastUpdated: str,
});

/** Teaching Manager – Departments & Subjects. */
export const departmentSchema = z.object({
  id,
  name: str,
  subjects: z.array(z.object({ id, name: str, code: str })),
});

/** Teaching Manager – Teaching Forms. */
export const teachingFormSchema = z.object({
  id,
  formCode: str,
  timetableCode: str,
  subjectId: str,
});

/** Teaching Manager – Teaching Sets. */
export const setSchema = z.object({
  id,
  subjectId: str,
  yearId: str,
  authorId: str,
  /** Legacy `Teacher` element: the primary teacher's UserCode. */
  primaryTeacherUserCode: str,
  authorUserCode: str,
  setNumber: str,
  block: str,
  setCode: str,
  name: str,
  teachers: z.array(z.object({ id: str, staffId: id, primaryTeacher: bool })),
  description: str,
  lastUpdated: str,
});

/** Teaching Manager – Teaching Set Lists. */
export const setListSchema = z.object({
  id,
  setId: id,
  pupilId: id,
  schoolId: str,
  authorId: str,
  lastUpdated: str,
});

export type TypedStaff = z.output<typeof staffSchema>;
export type TypedPupil = z.output<typeof pupilSchema>;
export type TypedContact = z.output<typeof contactSchema>;
export type TypedCustomGroup = z.output<typeof customGroupSchema>;
export type TypedCustomGroupMembership = z.output<typeof customGroupMembershipSchema>;
export type TypedHouse = z.output<typeof houseSchema>;
export type TypedForm = z.output<typeof formSchema>;
export type TypedDivision = z.output<typeof divisionSchema>;
export type TypedYear = z.output<typeof yearSchema>;
export type TypedDepartment = z.output<typeof departmentSchema>;
export type TypedTeachingForm = z.output<typeof teachingFormSchema>;
export type TypedSet = z.output<typeof setSchema>;
export type TypedSetList = z.output<typeof setListSchema>;
