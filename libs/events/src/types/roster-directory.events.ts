import { z } from 'zod';
import { defineEventType } from '../define-event-type';
import { changeDataSchema, stateDataSchema, type RosterEntityType } from './roster-change.events';

/**
 * The **directory** projection (docs/events.md › Who gets what; docs/architecture.md decision 22):
 * the fields a product that needs only who is who — names and ids, and how the school is organised —
 * receives, per entity type. Everything else (dates of birth, e-mail addresses, phone numbers, postal
 * addresses, gender, UPN, family ids, custom groups…) stays on the full topics. `id` is always kept.
 * An entity type that is not listed is not published on the directory topics at all.
 */
export const DIRECTORY_FIELDS = {
  staff: ['personId', 'title', 'forename', 'middleNames', 'surname', 'preferredName', 'fullName', 'initials'],
  pupil: [
    'personId',
    'forename',
    'middleName',
    'surname',
    'preferredName',
    'fullName',
    'formId',
    'yearGroupId',
    'academicHouseId',
    'boardingHouseId',
  ],
  contact: ['personId', 'title', 'forename', 'middleNames', 'surname'],
  form: ['name', 'yearGroupId', 'tutorStaffId'],
  yearGroup: ['name', 'code'],
  division: ['name', 'code', 'yearGroupIds'],
  academicHouse: ['name', 'code'],
  boardingHouse: ['name', 'code'],
  department: ['name', 'subjectIds'],
  subject: ['name', 'code', 'departmentIds'],
  teachingSet: ['name', 'setCode', 'subjectId', 'yearGroupId', 'primaryTeacherStaffId'],
  setMembership: ['setId', 'pupilId'],
} as const satisfies Partial<Record<RosterEntityType, readonly string[]>>;

export type DirectoryEntityType = keyof typeof DIRECTORY_FIELDS;
export const DIRECTORY_ENTITY_TYPES = Object.keys(DIRECTORY_FIELDS) as DirectoryEntityType[];

export function isDirectoryEntityType(t: string): t is DirectoryEntityType {
  return Object.hasOwn(DIRECTORY_FIELDS, t);
}

/** The directory fields of one entity image (`id` first); undefined for a type outside the directory. */
export function projectDirectoryImage(
  entityType: string,
  image: Readonly<Record<string, unknown>>,
): { id: string; [field: string]: unknown } | undefined {
  if (!isDirectoryEntityType(entityType)) return undefined;
  // Every roster image has its string id (the entity image schemas require it).
  const out: { id: string; [field: string]: unknown } = { id: image.id as string };
  for (const f of DIRECTORY_FIELDS[entityType]) if (image[f] !== undefined) out[f] = image[f];
  return out;
}

const directoryEntityType = z.enum(DIRECTORY_ENTITY_TYPES as [DirectoryEntityType, ...DirectoryEntityType[]]);
/** An image of the directory projection: any field outside it is rejected, so nothing more can leak. */
const directoryImage = z.looseObject({ id: z.string().min(1) });
const withinProjection = (
  entityType: DirectoryEntityType,
  images: Record<string, Record<string, unknown> | undefined>,
  ctx: z.RefinementCtx,
) => {
  const allowed = new Set<string>(['id', ...DIRECTORY_FIELDS[entityType]]);
  for (const [side, image] of Object.entries(images))
    for (const k of Object.keys(image ?? {}))
      if (!allowed.has(k))
        ctx.addIssue({
          code: 'custom',
          path: [side, k],
          message: `not in the ${entityType} directory projection`,
        });
};

/**
 * A roster change reduced to the directory projection: the full change's data, images limited to the
 * directory fields (`changedFields`: the directory fields that changed — an update of other fields
 * only is not published here).
 */
export const rosterDirectoryChangeDataSchema = changeDataSchema(
  directoryEntityType,
  directoryImage,
).superRefine((v, ctx) => withinProjection(v.entityType, { before: v.before, after: v.after }, ctx));
export type RosterDirectoryChangeData = z.infer<typeof rosterDirectoryChangeDataSchema>;

export const rosterDirectoryChangeV1 = defineEventType({
  type: 'com.schoolcloud.isams-sync.roster.directory.change.v1',
  source: '/isams-sync/roster',
  description:
    'A roster change (added/updated/removed/restored) reduced to the directory projection: names, ids and the school structure, no contact details. Topic roster.changes.directory.v1; same ids, order and revision as the full roster.changes.v1 event.',
  schema: rosterDirectoryChangeDataSchema,
});

export const rosterDirectoryStateV1 = defineEventType({
  type: 'com.schoolcloud.isams-sync.roster.directory.entity-state.v1',
  source: '/isams-sync/roster',
  description:
    'The current state of one roster entity reduced to the directory projection (compacted topic roster.state.directory.v1; purged people: a data-less record, then a tombstone). Bootstrap from it, then follow roster.changes.directory.v1.',
  schema: stateDataSchema(directoryEntityType, directoryImage).superRefine((v, ctx) =>
    withinProjection(v.entityType, { data: v.data }, ctx),
  ),
});
