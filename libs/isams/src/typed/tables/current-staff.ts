import { defineTable } from '../table';
import type { TypedOf } from '../table';

/** HR Manager – Current Staff, `HRManager/CurrentStaff/StaffMember` (reference §2.2.1). */
export const currentStaffTable = defineTable({
  where: 'HR Manager › Staff Manager',
  fields: {
    /** Staff id (TblStaffID): the key every other dataset uses for staff. */
    id: { kind: 'id', from: ['@Id'], label: 'Id', identity: 'required' },
    personId: { kind: 'id', from: ['@PersonId'], label: 'Person Id' },
    personGuid: { kind: 'text', from: ['@PersonGuid'], label: 'Person GUID' },
    previousMisId: { kind: 'text', from: ['PreviousMISId'], label: 'Previous MIS Id' },
    initials: { kind: 'text', from: ['Initials'], label: 'School initials' },
    /** The legacy staff key used by Legacy elements elsewhere (`Tutor`, `Teacher`, `HouseMaster`). */
    userCode: { kind: 'text', from: ['UserCode'], label: 'User code' },
    userName: { kind: 'text', from: ['UserName'], label: 'User name' },
    title: { kind: 'text', from: ['Title'], label: 'Title' },
    forename: { kind: 'text', from: ['Forename'], label: 'Forename' },
    middleNames: { kind: 'text', from: ['MiddleNames', 'Middlename'], label: 'Middle names' },
    surname: { kind: 'text', from: ['Surname'], label: 'Surname' },
    fullName: { kind: 'text', from: ['FullName'], label: 'Full name' },
    nameInitials: { kind: 'text', from: ['NameInitials'], label: 'Name initials' },
    preferredName: { kind: 'text', from: ['PreferredName'], label: 'Preferred name' },
    salutation: { kind: 'text', from: ['Salutation'], label: 'Salutation' },
    dob: { kind: 'date', from: ['DOB'], label: 'Date of birth' },
    gender: { kind: 'text', from: ['Gender'], label: 'Gender' },
    schoolEmailAddress: { kind: 'text', from: ['SchoolEmailAddress'], label: 'School e-mail address' },
    schoolMobileNumber: { kind: 'text', from: ['SchoolMobileNumber'], label: 'School mobile number' },
    personalMobileNumber: { kind: 'text', from: ['PersonalMobileNumber'], label: 'Personal mobile number' },
    teachingStaff: { kind: 'bool', from: ['TeachingStaff'], label: 'Teaching Staff' },
    leavingDate: { kind: 'date', from: ['LeavingDate'], label: 'Leaving date' },
    roles: {
      kind: 'list',
      from: ['Roles', 'Role'],
      label: 'Roles',
      item: {
        id: { kind: 'id', from: ['@Id'], label: 'Id', identity: 'required' },
        name: { kind: 'text', from: ['Name'], label: 'Name' },
      },
    },
    /** `Division/@Id` = `SchoolDivision/@Id`. */
    divisions: {
      kind: 'list',
      from: ['Divisions', 'Division'],
      label: 'Divisions',
      item: {
        id: { kind: 'id', from: ['@Id'], label: 'Id', identity: 'required' },
        name: { kind: 'text', from: ['Name'], label: 'Name' },
      },
    },
  },
});

export type TypedStaff = TypedOf<typeof currentStaffTable.fields>;
