import { defineTable } from '../table';
import type { TypedOf } from '../table';

/** Pupil Manager – Current Students, `PupilManager/CurrentPupils/Pupil` (reference §2.2.2). */
export const currentPupilsTable = defineTable({
  where: 'Pupil Manager › Pupils',
  fields: {
    /** Pupil id: used by SetList `PupilId`, membership `PupilID`, contact `Pupils/Pupil/@Id`. */
    id: { kind: 'id', from: ['@Id'], label: 'Id', identity: 'required' },
    personId: { kind: 'id', from: ['@PersonId'], label: 'Person Id' },
    personGuid: { kind: 'text', from: ['@PersonGuid'], label: 'Person GUID' },
    divisionId: { kind: 'id', from: ['@DivisionId'], label: 'Division' },
    academicHouseId: { kind: 'id', from: ['@AcademicHouseId'], label: 'Academic house' },
    boardingHouseId: { kind: 'id', from: ['@BoardingHouseId'], label: 'Boarding house' },
    upn: { kind: 'text', from: ['UPN'], label: 'UPN' },
    schoolCode: { kind: 'text', from: ['SchoolCode'], label: 'School code' },
    /** The iSAMS pupil identifier: a digit string, kept as text. */
    schoolId: { kind: 'text', from: ['SchoolId'], label: 'School Id' },
    userCode: { kind: 'text', from: ['UserCode'], label: 'User code' },
    userName: { kind: 'text', from: ['UserName'], label: 'User name' },
    title: { kind: 'text', from: ['Title'], label: 'Title' },
    forename: { kind: 'text', from: ['Forename'], label: 'Forename' },
    surname: { kind: 'text', from: ['Surname'], label: 'Surname' },
    middleName: { kind: 'text', from: ['Middlename', 'MiddleNames'], label: 'Middle name' },
    initials: { kind: 'text', from: ['Initials'], label: 'Initials' },
    preferredName: { kind: 'text', from: ['Preferredname'], label: 'Preferred name' },
    fullName: { kind: 'text', from: ['Fullname'], label: 'Full name' },
    gender: { kind: 'text', from: ['Gender'], label: 'Gender' },
    dob: { kind: 'date', from: ['DOB'], label: 'Date of birth' },
    /** House name (older output links houses by name). */
    academicHouse: { kind: 'text', from: ['AcademicHouse'], label: 'Academic house' },
    boardingHouse: { kind: 'text', from: ['BoardingHouse'], label: 'Boarding house' },
    /** Form name, = Forms/Form/@Id (may not match any form). */
    form: { kind: 'text', from: ['Form'], label: 'Form' },
    /** NC year, = Years/Year/@Id (may be negative). */
    ncYear: { kind: 'id', from: ['NCYear', 'NationalCurriculumYear'], label: 'NC year' },
    divisionName: { kind: 'text', from: ['DivisionName'], label: 'Division' },
    emailAddress: { kind: 'text', from: ['EmailAddress'], label: 'E-mail address' },
    mobileNumber: { kind: 'text', from: ['MobileNumber'], label: 'Mobile number' },
    pupilType: { kind: 'text', from: ['PupilType'], label: 'Pupil type' },
    enrolmentDate: { kind: 'date', from: ['EnrolmentDate'], label: 'Enrolment date' },
    enrolmentTerm: { kind: 'text', from: ['EnrolmentTerm'], label: 'Enrolment term' },
    enrolmentSchoolYear: { kind: 'text', from: ['EnrolmentSchoolYear'], label: 'Enrolment school year' },
    familyId: { kind: 'id', from: ['FamilyId'], label: 'Family Id' },
    nationalities: { kind: 'text', from: ['Nationalities'], label: 'Nationalities' },
    languages: { kind: 'text', from: ['Languages'], label: 'Languages' },
    /** The form tutor's staff UserCode (not the staff Id). */
    tutorUserCode: { kind: 'text', from: ['Tutor'], label: 'Tutor' },
    ethnicity: { kind: 'text', from: ['Ethnicity'], label: 'Ethnicity' },
  },
});

export type TypedPupil = TypedOf<typeof currentPupilsTable.fields>;
