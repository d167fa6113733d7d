import { z } from 'zod';

/**
 * The entity images the roster publishes (`before`/`after` of `roster.changes.v1`, `data` of
 * `roster.state.v1`): one open object schema per entity type, exactly the fields the roster's
 * normaliser produces (docs/roster-model.md › Entities).
 *
 * - Only `id` (and a membership's two keys) is always present. Every other field is **omitted** when
 *   it has no value — never `null` — and may also be missing when iSAMS sent it unreadably for an
 *   entity the roster had not stored yet.
 * - Images are **open** (`additionalProperties` allowed): the roster may add optional fields in a
 *   minor version of the contracts. Consumers must ignore fields they do not know; the producer's
 *   own tests check every image against the closed variant, so a field the schema does not describe
 *   cannot ship.
 */
const text = z.string();
/** An iSAMS id or a roster id (`<setId>:<pupilId>`, `c<ContactId>-1`), as a string. */
const id = z.string().min(1);
const ids = z.array(id);
/** iSAMS date, kept as sent: `YYYY-MM-DD`, optionally with a time and zone. */
const date = z.string().regex(/^\d{4}-\d{2}-\d{2}/);

const image = <T extends z.ZodRawShape>(entityType: string, description: string, shape: T) =>
  z
    .object({ id, ...shape })
    .loose()
    .meta({ id: `roster-entity-${entityType}`, title: `roster ${entityType} image`, description });

const house = (entityType: string, which: string) =>
  image(entityType, `${which} house (House/@Id).`, {
    name: text.optional(),
    code: text.optional(),
    type: text.optional(),
    sex: text.optional(),
    houseMasterStaffId: id.optional(),
    assistantHouseMasterStaffId: id.optional(),
  });

/** The entity image schema of every roster entity type. */
export const rosterEntitySchemas = {
  staff: image('staff', 'A current member of staff (StaffMember/@Id).', {
    personId: id.optional(),
    /** Lower-case GUID. */
    personGuid: text.optional(),
    userCode: text.optional(),
    userName: text.optional(),
    initials: text.optional(),
    title: text.optional(),
    forename: text.optional(),
    middleNames: text.optional(),
    surname: text.optional(),
    preferredName: text.optional(),
    /** iSAMS FullName, else forename + surname. */
    fullName: text.optional(),
    salutation: text.optional(),
    gender: text.optional(),
    dob: date.optional(),
    /** School e-mail address. */
    email: text.optional(),
    /** School mobile number. */
    mobile: text.optional(),
    /** TeachingStaff (false when iSAMS sent nothing). */
    teaching: z.boolean().optional(),
    leavingDate: date.optional(),
    roles: z.array(z.object({ id: id.optional(), name: text.optional() }).loose()).optional(),
    divisionIds: ids.optional(),
  }),
  pupil: image('pupil', 'A current pupil (Pupil/@Id).', {
    personId: id.optional(),
    personGuid: text.optional(),
    schoolId: text.optional(),
    schoolCode: text.optional(),
    upn: text.optional(),
    userCode: text.optional(),
    userName: text.optional(),
    title: text.optional(),
    forename: text.optional(),
    middleName: text.optional(),
    surname: text.optional(),
    preferredName: text.optional(),
    fullName: text.optional(),
    initials: text.optional(),
    gender: text.optional(),
    dob: date.optional(),
    email: text.optional(),
    mobile: text.optional(),
    pupilType: text.optional(),
    enrolmentDate: date.optional(),
    familyId: text.optional(),
    formId: id.optional(),
    yearGroupId: id.optional(),
    academicHouseId: id.optional(),
    boardingHouseId: id.optional(),
    divisionId: id.optional(),
    tutorStaffId: id.optional(),
  }),
  contact: image(
    'contact',
    'A contact person (Contact/@PersonId, else c<ContactId>-<1|2>); one per person across contact records.',
    {
      personId: id.optional(),
      title: text.optional(),
      forename: text.optional(),
      middleNames: text.optional(),
      surname: text.optional(),
      relationship: text.optional(),
      emails: z.array(text).optional(),
      telephone: text.optional(),
      mobile: text.optional(),
      profession: text.optional(),
      address: z
        .object({
          lines: z.array(text).optional(),
          town: text.optional(),
          county: text.optional(),
          postcode: text.optional(),
          country: text.optional(),
        })
        .loose()
        .optional(),
      mailMergeAll: z.boolean().optional(),
      correspondenceMailMerge: z.boolean().optional(),
      isFirstPersonContact: z.boolean().optional(),
      /** The iSAMS contact records this person appears in. */
      contactIds: ids.optional(),
      pupils: z
        .array(
          z
            .object({
              pupilId: id.optional(),
              /** `Current`, `Former`, … as iSAMS sends it. */
              status: text.optional(),
              relationship: text.optional(),
              contactId: id.optional(),
            })
            .loose(),
        )
        .optional(),
    },
  ),
  form: image('form', 'A school form (Form/@Id, the form name).', {
    name: text.optional(),
    yearGroupId: id.optional(),
    tutorStaffId: id.optional(),
    assistantTutorStaffId: id.optional(),
    secondAssistantTutorStaffId: id.optional(),
    roomId: id.optional(),
  }),
  yearGroup: image('yearGroup', 'A year group (Year/@Id, the NC year).', {
    name: text.optional(),
    code: text.optional(),
    tutorStaffId: id.optional(),
    assistantTutorStaffId: id.optional(),
  }),
  division: image('division', 'A school division (SchoolDivision/@Id).', {
    name: text.optional(),
    code: text.optional(),
    yearGroupIds: ids.optional(),
  }),
  academicHouse: house('academicHouse', 'An academic'),
  boardingHouse: house('boardingHouse', 'A boarding'),
  department: image('department', 'A department (Department/@Id).', {
    name: text.optional(),
    subjectIds: ids.optional(),
  }),
  subject: image('subject', 'A subject (Subject/@Id), de-duplicated across departments.', {
    name: text.optional(),
    code: text.optional(),
    departmentIds: ids.optional(),
  }),
  teachingSet: image('teachingSet', 'A teaching set (Set/@Id).', {
    name: text.optional(),
    setCode: text.optional(),
    setNumber: text.optional(),
    block: text.optional(),
    description: text.optional(),
    subjectId: id.optional(),
    yearGroupId: id.optional(),
    teachers: z
      .array(z.object({ staffId: id.optional(), primary: z.boolean().optional() }).loose())
      .optional(),
    primaryTeacherStaffId: id.optional(),
  }),
  setMembership: image('setMembership', 'A pupil in a teaching set (`<setId>:<pupilId>`).', {
    setId: id,
    pupilId: id,
    /** The iSAMS SetList rows merged into this membership. */
    rowIds: ids.optional(),
  }),
  teachingForm: image('teachingForm', 'A school form taught a subject as a whole (TeachingForm/@Id).', {
    formId: id.optional(),
    subjectId: id.optional(),
    timetableCode: text.optional(),
  }),
  customGroup: image('customGroup', 'A custom pupil group (CustomPupilGroup/@Id), not deleted or expired.', {
    name: text.optional(),
    categoryId: id.optional(),
    shared: z.boolean().optional(),
    expiryDate: date.optional(),
    ownerStaffId: id.optional(),
  }),
  customGroupMembership: image(
    'customGroupMembership',
    'A pupil in a custom group (`<groupId>:<pupilId>`).',
    {
      customGroupId: id,
      pupilId: id,
      rowIds: ids.optional(),
    },
  ),
} as const;

/** The image of any roster entity, as an open object with its `id`. */
export const anyRosterEntitySchema = z.object({ id }).loose();

/**
 * Version of the entity image schemas (`schemas/roster-entities/*.json`); the change and state event
 * types that embed them bump their own `schemaVersion` minor with it.
 */
export const ROSTER_ENTITY_SCHEMA_VERSION = '1.0.0';
