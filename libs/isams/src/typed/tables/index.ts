import type { DatasetId } from '../../datasets';
import type { DatasetTable, FieldPath, TypedOf } from '../table';
import { contactsTable } from './contacts';
import { currentPupilsTable } from './current-pupils';
import { currentStaffTable } from './current-staff';
import { customGroupMembershipTable } from './custom-group-membership';
import { customGroupsTable } from './custom-groups';
import { departmentsAndSubjectsTable } from './departments-and-subjects';
import { housesTable } from './houses';
import { schoolDivisionsTable } from './school-divisions';
import { schoolFormsTable } from './school-forms';
import { teachingFormsTable } from './teaching-forms';
import { teachingSetListsTable } from './teaching-set-lists';
import { teachingSetsTable } from './teaching-sets';
import { yearGroupsTable } from './year-groups';

/** The declarative table of every dataset (Academic and Boarding Houses share one). */
export const DATASET_TABLES = {
  currentStaff: currentStaffTable,
  contacts: contactsTable,
  currentPupils: currentPupilsTable,
  customGroupMembership: customGroupMembershipTable,
  customGroups: customGroupsTable,
  academicHouses: housesTable,
  boardingHouses: housesTable,
  schoolForms: schoolFormsTable,
  schoolDivisions: schoolDivisionsTable,
  yearGroups: yearGroupsTable,
  departmentsAndSubjects: departmentsAndSubjectsTable,
  teachingForms: teachingFormsTable,
  teachingSets: teachingSetsTable,
  teachingSetLists: teachingSetListsTable,
} as const satisfies Record<DatasetId, DatasetTable>;

type Fields<D extends DatasetId> = (typeof DATASET_TABLES)[D]['fields'];

/** The typed record of a dataset, e.g. `TypedRecord<'teachingSets'>` = `TypedSet`. */
export type TypedRecord<D extends DatasetId> = TypedOf<Fields<D>>;

/** A path of a dataset's typed record that a read can report unreadable (`roles`, `teachers.primaryTeacher`). */
export type TypedFieldPath<D extends DatasetId> = FieldPath<Fields<D>>;

export type { TypedStaff } from './current-staff';
export type { TypedPupil } from './current-pupils';
export type { TypedContact } from './contacts';
export type { TypedCustomGroup } from './custom-groups';
export type { TypedCustomGroupMembership } from './custom-group-membership';
export type { TypedHouse } from './houses';
export type { TypedForm } from './school-forms';
export type { TypedDivision } from './school-divisions';
export type { TypedYear } from './year-groups';
export type { TypedDepartment } from './departments-and-subjects';
export type { TypedTeachingForm } from './teaching-forms';
export type { TypedSet } from './teaching-sets';
export type { TypedSetList } from './teaching-set-lists';
