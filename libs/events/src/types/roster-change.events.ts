import { ID_MAX_CHARS } from '@isams-sync/isams';
import { z } from 'zod';
import { defineEventType, type EventType } from '../define-event-type';
import { anyRosterEntitySchema, rosterEntitySchemas } from './roster-entities';

/**
 * The longest roster entity id a service looks up (the roster's GetEntity, bookings' person ids, the
 * gateway's `/roster/:type/:id`). It is the typed reader's bound on an iSAMS identity
 * (`ID_MAX_CHARS` in `@isams-sync/isams`, which leaves out a record whose identity is longer),
 * passed on here for the services that may not depend on the iSAMS library (bookings, gateway).
 */
export const ENTITY_ID_MAX_CHARS = ID_MAX_CHARS;

/** Every roster entity type that has change events. */
export const ROSTER_ENTITY_TYPES = [
  'staff',
  'pupil',
  'contact',
  'form',
  'yearGroup',
  'division',
  'academicHouse',
  'boardingHouse',
  'department',
  'subject',
  'teachingSet',
  'setMembership',
  'teachingForm',
  'customGroup',
  'customGroupMembership',
] as const;
export type RosterEntityType = (typeof ROSTER_ENTITY_TYPES)[number];

/** The changes a roster entity can undergo. `restored`: a soft-removed entity reappeared within its grace period. */
export const ROSTER_CHANGES = ['added', 'updated', 'removed', 'restored'] as const;
export type RosterChange = (typeof ROSTER_CHANGES)[number];

/** Why an entity was removed. */
export const REMOVAL_REASONS = [
  /** It was absent from a complete, healthy dataset and the removal was under the hold threshold. */
  'absent_from_feed',
  /** It was in a held batch that an admin approved. */
  'approved_held_batch',
] as const;

/**
 * A change's place among the changes of its entity, on both roster topics: `changeset` is the school's
 * changeset number (changesets of a school apply one at a time, in this order), `change` the change's
 * position in it. Compare `(changeset, change)` lexicographically: a larger revision is a later change
 * of the entity. Absent on events of changes applied before revisions existed (then apply them).
 */
export const rosterRevisionSchema = z
  .object({ changeset: z.number().int().min(1), change: z.number().int().min(0) })
  .strict();
export type RosterRevision = z.infer<typeof rosterRevisionSchema>;

export const removalSchema = z
  .object({
    reason: z.enum(REMOVAL_REASONS),
    /** Personal data is purged after this instant unless the entity reappears (then `restored`). */
    graceUntil: z.iso.datetime({ offset: true }),
    heldBatchId: z.string().optional(),
    approvedBy: z.string().optional(),
  })
  .strict();

/**
 * The data of a roster change whose entity type is `entityType` and whose images are `image`: the
 * full topic's per-type schemas below, and the directory projection's (roster-directory.events.ts).
 */
export function changeDataSchema<E extends z.ZodType, I extends z.ZodType>(entityType: E, image: I) {
  return z
    .object({
      syncRunId: z.string().min(1).max(64),
      entityType,
      /** Stable roster id of the entity (e.g. the iSAMS pupil `Id` for pupils, `PersonId` for contacts). */
      entityId: z.string().min(1),
      change: z.enum(ROSTER_CHANGES),
      /** State before the change (updated, removed, restored). */
      before: image.optional(),
      /** State after the change (added, updated, restored). */
      after: image.optional(),
      /** Top-level fields that differ between before and after (updated). */
      changedFields: z.array(z.string()).optional(),
      /** Present on `removed`. */
      removal: removalSchema.optional(),
      /**
       * Present on a `restored` an admin caused by undoing the run (`syncRunId`) that removed the
       * entity; absent when the entity reappeared in the feed.
       */
      restoration: z
        .object({
          reason: z.enum(['run_undone']),
          /** The admin identity who undid the run. */
          undoneBy: z.string().optional(),
        })
        .strict()
        .optional(),
      /** The change's id (`<syncRunId>[~<kind>]#<seq>`): the `lastChangeId` of the state record it leaves. */
      changeId: z.string().min(1).optional(),
      /** The change's order among its entity's changes (docs/events.md › Bootstrap and follow). */
      revision: rosterRevisionSchema.optional(),
    })
    .strict();
}

/**
 * The data of any roster change, images as open objects with an `id`. Each event type validates
 * with its entity type's own schema ({@link rosterChangeDataSchemas}), whose images are typed.
 */
export const rosterChangeDataSchema = changeDataSchema(z.enum(ROSTER_ENTITY_TYPES), anyRosterEntitySchema);

/** Per entity type: the data schema of its change events (`entityType` fixed, images typed). */
export const rosterChangeDataSchemas = Object.fromEntries(
  ROSTER_ENTITY_TYPES.map((t) => [t, changeDataSchema(z.literal(t), rosterEntitySchemas[t])]),
) as unknown as Readonly<Record<RosterEntityType, typeof rosterChangeDataSchema>>;
export type RosterChangeData = z.infer<typeof rosterChangeDataSchema>;

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** `com.schoolcloud.isams-sync.roster.<entity-kebab>.<change>.v1`, e.g. `…roster.pupil.removed.v1`. */
export function rosterChangeEventTypeName(entityType: RosterEntityType, change: RosterChange): string {
  return `com.schoolcloud.isams-sync.roster.${kebab(entityType)}.${change}.v1`;
}

const describe: Record<RosterChange, string> = {
  added: 'appeared in the roster for the first time',
  updated: 'changed; `before`, `after` and `changedFields` say how',
  removed:
    'was removed (soft: personal data kept until `removal.graceUntil`, then purged); `removal.reason` says why. Bookings of removed staff, pupils and contacts are cancelled',
  restored:
    'reappeared within its grace period after a removal, or was restored by an admin undoing the run that removed it (`restoration`); same identity, not a new entity',
};

/** One event type per (entity type, change), all sharing {@link rosterChangeDataSchema}. */
export const rosterChangeEventTypes: Readonly<
  Record<RosterEntityType, Readonly<Record<RosterChange, EventType<typeof rosterChangeDataSchema>>>>
> = Object.fromEntries(
  ROSTER_ENTITY_TYPES.map((entityType) => [
    entityType,
    Object.fromEntries(
      ROSTER_CHANGES.map((change) => [
        change,
        defineEventType({
          type: rosterChangeEventTypeName(entityType, change),
          source: '/isams-sync/roster',
          description: `A ${entityType} ${describe[change]}.`,
          schema: rosterChangeDataSchemas[entityType],
        }),
      ]),
    ),
  ]),
) as never;

/** All roster change event types as a flat list (for the registry). */
export const allRosterChangeEventTypes = ROSTER_ENTITY_TYPES.flatMap((e) =>
  ROSTER_CHANGES.map((c) => rosterChangeEventTypes[e][c]),
);

/** Status of an entity on the compacted state topic. */
export const ROSTER_ENTITY_STATES = ['active', 'removed', 'purged'] as const;

/**
 * Current state of one roster entity on the compacted `roster.state.v1` (Kafka key
 * `<tenantid>/<entityType>/<entityId>`, the CloudEvents `subject` is `<entityType>/<entityId>`), so a
 * new subscriber can bootstrap the whole roster by reading the topic from the beginning, then follow
 * `roster.changes.v1`. A purged person gets a record without `data`, then a Kafka tombstone (null
 * value, same key — not a CloudEvent), so compaction forgets the key. The directory projection's
 * state records (roster-directory.events.ts) have the same data, images reduced.
 */
export function stateDataSchema<E extends z.ZodType, I extends z.ZodType>(entityType: E, image: I) {
  return z
    .object({
      entityType,
      entityId: z.string().min(1),
      status: z.enum(ROSTER_ENTITY_STATES),
      /** The entity image (absent when purged). */
      data: image.optional(),
      /** The change that produced this state (`<syncRunId>#<seq>`). */
      lastChangeId: z.string().min(1),
      /** The revision of that change (absent when it was applied before revisions existed). */
      revision: rosterRevisionSchema.optional(),
      syncRunId: z.string().min(1).max(64).optional(),
      removal: removalSchema.optional(),
    })
    .strict();
}

/**
 * The state record of any entity, images as open objects with an `id`. The registered type validates
 * with the discriminated union on `entityType`, whose images are typed.
 */
export const rosterEntityStateDataSchema = stateDataSchema(
  z.enum(ROSTER_ENTITY_TYPES),
  anyRosterEntitySchema,
);

export const rosterEntityStateV1 = defineEventType({
  type: 'com.schoolcloud.isams-sync.roster.entity-state.v1',
  source: '/isams-sync/roster',
  description:
    'Current state of one roster entity (compacted topic roster.state.v1, one retained record per tenant + entity): active with its image, removed (image kept until the grace period ends) or purged (no personal data). Read from the beginning to bootstrap, then follow roster.changes.v1.',
  schema: z.discriminatedUnion(
    'entityType',
    ROSTER_ENTITY_TYPES.map((t) => stateDataSchema(z.literal(t), rosterEntitySchemas[t])) as unknown as [
      typeof rosterEntityStateDataSchema,
    ],
  ) as unknown as typeof rosterEntityStateDataSchema,
});
export type RosterEntityState = z.infer<typeof rosterEntityStateV1.schema>;
