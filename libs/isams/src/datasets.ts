/**
 * The 14 iSAMS Batch API datasets SchoolCloud needs, with their canonical ids (used everywhere in
 * the system: events, APIs, docs), the name an iSAMS administrator sees when ticking the dataset
 * on a Batch API key, and where the dataset sits in the Batch API document.
 *
 * Source: shared docs `isams-batch-api.md` §1.2 and §2.
 */
export const DATASET_IDS = [
  'currentStaff',
  'contacts',
  'currentPupils',
  'customGroupMembership',
  'customGroups',
  'academicHouses',
  'boardingHouses',
  'schoolForms',
  'schoolDivisions',
  'yearGroups',
  'departmentsAndSubjects',
  'teachingForms',
  'teachingSets',
  'teachingSetLists',
] as const;

/** A canonical dataset id, e.g. `teachingSetLists`. */
export type DatasetId = (typeof DATASET_IDS)[number];

/** Static description of one dataset of the Batch API document. */
export interface DatasetDescriptor {
  readonly id: DatasetId;
  /** The name an iSAMS administrator sees, e.g. "Teaching Manager – Teaching Set Lists". */
  readonly adminName: string;
  /** Module element below `<iSAMS>`, e.g. `TeachingManager`. */
  readonly module: string;
  /** Dataset container element below the module, e.g. `SetLists`. */
  readonly container: string;
  /** Row element inside the container, e.g. `SetList`. */
  readonly row: string;
  /**
   * `MethodsToRun` name. `undefined` where no public source names it (Contacts (Filtered) is [U]
   * in the reference); the simulator uses an invented name for it, marked as such there.
   */
  readonly method: string | undefined;
}

export const DATASETS: Readonly<Record<DatasetId, DatasetDescriptor>> = {
  currentStaff: {
    id: 'currentStaff',
    adminName: 'HR Manager – Current Staff',
    module: 'HRManager',
    container: 'CurrentStaff',
    row: 'StaffMember',
    method: 'HumanResources_GetCurrentStaff',
  },
  contacts: {
    id: 'contacts',
    adminName: 'Pupil Manager – Contacts (Filtered)',
    module: 'PupilManager',
    container: 'Contacts',
    row: 'Contact',
    method: undefined,
  },
  currentPupils: {
    id: 'currentPupils',
    adminName: 'Pupil Manager – Current Students',
    module: 'PupilManager',
    container: 'CurrentPupils',
    row: 'Pupil',
    method: 'Pupil_GetCurrentPupils',
  },
  customGroupMembership: {
    id: 'customGroupMembership',
    adminName: 'Pupil Manager – Custom Group Membership',
    module: 'PupilManager',
    container: 'CustomPupilGroupMembershipItems',
    row: 'CustomPupilGroupMembershipItem',
    method: 'Pupil_GetCustomPupilGroupMembership',
  },
  customGroups: {
    id: 'customGroups',
    adminName: 'Pupil Manager – Custom Groups',
    module: 'PupilManager',
    container: 'CustomPupilGroups',
    row: 'CustomPupilGroup',
    method: 'Pupil_GetCustomPupilGroups',
  },
  academicHouses: {
    id: 'academicHouses',
    adminName: 'School Manager – Academic Houses',
    module: 'SchoolManager',
    container: 'AcademicHouses',
    row: 'House',
    method: 'School_GetAcademicHouses',
  },
  boardingHouses: {
    id: 'boardingHouses',
    adminName: 'School Manager – Boarding Houses',
    module: 'SchoolManager',
    container: 'BoardingHouses',
    row: 'House',
    method: 'School_GetBoardingHouses',
  },
  schoolForms: {
    id: 'schoolForms',
    adminName: 'School Manager – School Forms',
    module: 'SchoolManager',
    container: 'Forms',
    row: 'Form',
    method: 'School_GetSchoolForms',
  },
  schoolDivisions: {
    id: 'schoolDivisions',
    adminName: 'School Manager – School Divisions',
    module: 'SchoolManager',
    container: 'SchoolDivisions',
    row: 'SchoolDivision',
    method: 'School_GetSchoolDivisions',
  },
  yearGroups: {
    id: 'yearGroups',
    adminName: 'School Manager – Year Groups',
    module: 'SchoolManager',
    container: 'Years',
    row: 'Year',
    method: 'School_GetAllYears',
  },
  departmentsAndSubjects: {
    id: 'departmentsAndSubjects',
    adminName: 'Teaching Manager – Departments & Subjects',
    module: 'TeachingManager',
    container: 'Departments',
    row: 'Department',
    method: 'Teaching_GetDepartmentsAndSubjects',
  },
  teachingForms: {
    id: 'teachingForms',
    adminName: 'Teaching Manager – Teaching Forms',
    module: 'TeachingManager',
    container: 'TeachingForms',
    row: 'TeachingForm',
    method: 'Teaching_GetTeachingForms',
  },
  teachingSets: {
    id: 'teachingSets',
    adminName: 'Teaching Manager – Teaching Sets',
    module: 'TeachingManager',
    container: 'Sets',
    row: 'Set',
    method: 'Teaching_GetTeachingSets',
  },
  teachingSetLists: {
    id: 'teachingSetLists',
    adminName: 'Teaching Manager – Teaching Set Lists',
    module: 'TeachingManager',
    container: 'SetLists',
    row: 'SetList',
    method: 'Teaching_GetTeachingSetLists',
  },
};

/**
 * The name SchoolCloud's help article gives a dataset in its list of what to tick on the key,
 * e.g. "HR Manager Datasets - Current Staff" (iSAMS groups the tick-boxes as "<Module> Datasets").
 * Derived from {@link DatasetDescriptor.adminName}, so the two never disagree.
 */
export function datasetArticleName(id: DatasetId): string {
  const adminName = DATASETS[id].adminName;
  const cut = adminName.indexOf(' – ');
  return `${adminName.slice(0, cut)} Datasets - ${adminName.slice(cut + 3)}`;
}

/** The 14 datasets to tick on the Batch API key, in the help article's words and order. */
export const DATASET_ARTICLE_NAMES: readonly string[] = DATASET_IDS.map(datasetArticleName);

/** Type guard for a canonical dataset id. */
export function isDatasetId(value: string): value is DatasetId {
  return (DATASET_IDS as readonly string[]).includes(value);
}

/**
 * The longest identity (a record's or a list item's id, a form's Id) the typed reader accepts, in
 * UTF-16 code units; a longer one leaves its record out (`ISAMS_RECORD_INVALID_FIELD`), as an
 * unreadable id does. iSAMS ids are SQL Server integers (at most 11 characters) and form codes are
 * short: this bounds what a damaged document can make the services store, publish and look up —
 * the roster's GetEntity, bookings' person ids and the gateway's `/roster/:type/:id` take ids up to
 * this length (`ENTITY_ID_MAX_CHARS` in `@isams-sync/events` is this constant). Kept here, beside the
 * dataset ids, because the contracts package takes this module alone from the iSAMS library.
 */
export const ID_MAX_CHARS = 200;
