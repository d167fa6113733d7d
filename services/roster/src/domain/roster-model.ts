import type { DatasetId } from '@isams-sync/isams';
import type { RosterEntityType } from '@isams-sync/events';

/** A JSON value as stored in an entity image (no `undefined`: absent fields are omitted). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A normalised roster entity: a flat JSON image with a stable `id` (see docs/roster-model.md). */
export interface RosterEntity {
  id: string;
  [field: string]: JsonValue;
}

/** Entities of one normalised snapshot, by type and id (insertion order = id order). */
export type EntitiesByType = Record<RosterEntityType, Map<string, RosterEntity>>;

/** The dataset each entity type is derived from: a type whose dataset is absent is never diffed for removals. */
export const SOURCE_DATASET: Readonly<Record<RosterEntityType, DatasetId>> = {
  staff: 'currentStaff',
  pupil: 'currentPupils',
  contact: 'contacts',
  form: 'schoolForms',
  yearGroup: 'yearGroups',
  division: 'schoolDivisions',
  academicHouse: 'academicHouses',
  boardingHouse: 'boardingHouses',
  department: 'departmentsAndSubjects',
  subject: 'departmentsAndSubjects',
  teachingSet: 'teachingSets',
  setMembership: 'teachingSetLists',
  teachingForm: 'teachingForms',
  customGroup: 'customGroups',
  customGroupMembership: 'customGroupMembership',
};

/**
 * The entity type a dataset's records are: a record of the dataset that is not imported counts as a
 * skipped one of it (departmentsAndSubjects: a department; its subjects nest in it).
 */
export const DATASET_ENTITY_TYPE = Object.fromEntries(
  // Reversed so that the first type of a shared dataset (department before subject) wins.
  Object.entries(SOURCE_DATASET)
    .reverse()
    .map(([type, dataset]) => [dataset, type]),
) as Readonly<Record<DatasetId, RosterEntityType>>;

/** Each entity type in plain words, plural (for reasons shown to admins). */
export const PLAIN_NAMES: Readonly<Record<RosterEntityType, string>> = {
  staff: 'staff',
  pupil: 'pupils',
  contact: 'contacts',
  form: 'forms',
  yearGroup: 'year groups',
  division: 'divisions',
  academicHouse: 'academic houses',
  boardingHouse: 'boarding houses',
  department: 'departments',
  subject: 'subjects',
  teachingSet: 'teaching sets',
  setMembership: 'set memberships',
  teachingForm: 'teaching forms',
  customGroup: 'custom groups',
  customGroupMembership: 'custom group memberships',
};

/** Entity types that are people: their removal starts a grace period after which personal fields are purged. */
export const PERSON_TYPES: readonly RosterEntityType[] = ['staff', 'pupil', 'contact'];

/** Fields of a person that are kept after the grace purge (everything else is personal and removed). */
export const PURGE_KEEP_FIELDS: readonly string[] = ['id'];

/** How bad a finding is: `warning` = data was dropped or a link left unresolved; `info` = expected filtering. */
export type FindingSeverity = 'warning' | 'info';

/** A data-quality finding about one record of the snapshot. */
export interface RosterFinding {
  /** Stable code (`ROSTER_*` from normalisation, `ISAMS_*` passed through from the typed view, e.g. `ISAMS_FIELD_UNREADABLE`). */
  code: string;
  severity: FindingSeverity;
  datasetId: DatasetId;
  /** The record concerned (its iSAMS id or our composite id). */
  recordId?: string;
  /** The field holding a bad reference or value. */
  field?: string;
  /** The unresolved reference value (an id, user code or name of a non-person entity; never personal data). */
  ref?: string;
  message: string;
}

/** Stable finding codes of the roster's normalisation. */
export const ROSTER_FINDING_CODES = {
  /** A second record with an id already seen in the dataset; the first wins. */
  DUPLICATE_RECORD: 'ROSTER_DUPLICATE_RECORD',
  /** A set list row for a (set, pupil) pair already seen; de-duplicated. */
  DUPLICATE_SET_MEMBERSHIP: 'ROSTER_DUPLICATE_SET_MEMBERSHIP',
  /** A custom group membership row for a (group, pupil) pair already seen; de-duplicated. */
  DUPLICATE_GROUP_MEMBERSHIP: 'ROSTER_DUPLICATE_GROUP_MEMBERSHIP',
  /** The same subject under several departments with different names/codes; the first wins. */
  SUBJECT_CONFLICT: 'ROSTER_SUBJECT_CONFLICT',
  /** A reference that matches nothing in its target dataset; the link is left empty. */
  DANGLING_REFERENCE: 'ROSTER_DANGLING_REFERENCE',
  /** A membership/link row whose owner or member does not exist; the row is not imported. */
  DANGLING_MEMBERSHIP: 'ROSTER_DANGLING_MEMBERSHIP',
  /** A contact row without PersonId: keyed on contact id + first/second person instead. */
  CONTACT_WITHOUT_PERSON_ID: 'ROSTER_CONTACT_WITHOUT_PERSON_ID',
  /**
   * A contact row whose key changed because iSAMS started or stopped sending its PersonId: it is the
   * stored contact of the same record and position, and keeps that contact's key (updated in place).
   */
  CONTACT_KEY_KEPT: 'ROSTER_CONTACT_KEY_KEPT',
  /**
   * A contact row under a key not stored that several stored contacts (or none for sure) could be:
   * not imported, and no contact is removed in the run.
   */
  CONTACT_KEY_AMBIGUOUS: 'ROSTER_CONTACT_KEY_AMBIGUOUS',
  /**
   * A contact row without PersonId whose record Id would make a key (`c<Id>-<1|2>`) longer than the
   * ids the services look up (`ENTITY_ID_MAX_CHARS`): not imported, and no contact is removed in the run.
   */
  CONTACT_KEY_TOO_LONG: 'ROSTER_CONTACT_KEY_TOO_LONG',
  /**
   * A stored contact not read in the run whose person is still sent under another key (its record and
   * position, or its PersonId, are in the feed): not removed, it stays as stored.
   */
  CONTACT_RETAINED: 'ROSTER_CONTACT_RETAINED',
  /** The same contact person in two rows with different personal details; the first wins. */
  CONTACT_CONFLICT: 'ROSTER_CONTACT_CONFLICT',
  /** A deleted custom group: excluded with its memberships. */
  GROUP_DELETED: 'ROSTER_GROUP_DELETED',
  /** An expired custom group: excluded with its memberships. */
  GROUP_EXPIRED: 'ROSTER_GROUP_EXPIRED',
  /** A membership of an excluded (deleted/expired) group: not imported. */
  MEMBERSHIP_OF_EXCLUDED_GROUP: 'ROSTER_MEMBERSHIP_OF_EXCLUDED_GROUP',
  /**
   * Two rows with the same Id and different content: read from the first, what they disagree on
   * keeps its stored value, lists of child items are the union of every copy's, and what only the
   * other names is still read (nothing of it is removed).
   */
  CONFLICTING_DUPLICATE: 'ROSTER_CONFLICTING_DUPLICATE',
  /**
   * A dataset had records (or nested entries) whose identity could not be read: nothing of the
   * affected types is removed in this run, as any stored entity might be one of them.
   */
  REMOVALS_SUSPENDED: 'ROSTER_REMOVALS_SUSPENDED',
  /** A custom group whose deleted/expired status cannot be read: kept as stored, or not imported when new. */
  GROUP_STATUS_UNREADABLE: 'ROSTER_GROUP_STATUS_UNREADABLE',
} as const;
