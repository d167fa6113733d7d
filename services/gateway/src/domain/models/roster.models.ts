import { z } from 'zod';
import { pageInfoSchema } from './common.models';
import { ROSTER_ENTITY_TYPES } from '@isams-sync/events';

export const ENTITY_TYPES = ROSTER_ENTITY_TYPES;
export const entityTypeSchema = z.enum(ENTITY_TYPES);
export type EntityType = z.infer<typeof entityTypeSchema>;
export const isEntityType = (value: string): value is EntityType =>
  (ENTITY_TYPES as readonly string[]).includes(value);

export const entitySchema = z
  .object({
    entityType: z.string(),
    entityId: z.string(),
    status: z.string().describe('active or removed'),
    data: z
      .record(z.string(), z.unknown())
      .nullable()
      .describe('The normalised image (docs/roster-model.md)'),
    lastSyncRunId: z.string().nullable(),
    changedAt: z.string().nullable(),
    removedAt: z.string().nullable(),
    graceUntil: z.string().nullable(),
    removalReason: z.string().nullable(),
  })
  .meta({ id: 'RosterEntity' });
export type RosterEntity = z.infer<typeof entitySchema>;

export const entityPageSchema = z.object({ entities: z.array(entitySchema), page: pageInfoSchema });
export type EntityPage = z.infer<typeof entityPageSchema>;

export const typeCountsSchema = z.object({
  entityType: z.string(),
  added: z.number().int(),
  updated: z.number().int(),
  removed: z.number().int(),
  restored: z.number().int(),
  held: z.number().int(),
  unchanged: z.number().int(),
  /** Source records not imported (duplicates, unidentified, dangling memberships, excluded groups). */
  skipped: z.number().int(),
});

export const rosterRunSchema = z
  .object({
    syncRunId: z.string(),
    state: z.string(),
    dryRun: z.boolean(),
    outcome: z.string().nullable(),
    receivedAt: z.string().nullable(),
    processedAt: z.string().nullable(),
    completedAt: z.string().nullable(),
    counts: z.array(typeCountsSchema),
    heldBatchId: z.string().nullable(),
    errorCode: z.string().nullable(),
    errorMessage: z.string().nullable(),
    changeCount: z.number().int(),
    findingCount: z.number().int(),
    holdKind: z
      .string()
      .nullable()
      .describe(
        'When the run held something: removals, or whole_run (the document looked like another school)',
      ),
    holdReason: z.string().nullable().describe('Why the run held something, in plain words'),
  })
  .meta({ id: 'RosterRun' });
export type RosterRun = z.infer<typeof rosterRunSchema>;

export const changeSchema = z.object({
  seq: z.number().int(),
  entityType: z.string(),
  entityId: z.string(),
  change: z.string().describe('added, updated, removed, restored'),
  disposition: z
    .string()
    .describe(
      'apply, held (waits in the pending held batch) or discarded (an admin discarded this very change earlier)',
    ),
  before: z.record(z.string(), z.unknown()).nullable(),
  after: z.record(z.string(), z.unknown()).nullable(),
  changedFields: z.array(z.string()),
  removalReason: z.string().nullable(),
});
export type Change = z.infer<typeof changeSchema>;
export const changePageSchema = z.object({ changes: z.array(changeSchema), page: pageInfoSchema });
export type ChangePage = z.infer<typeof changePageSchema>;

export const findingSchema = z.object({
  code: z.string().describe('Stable rule code'),
  severity: z.string(),
  datasetId: z.string(),
  recordId: z.string(),
  field: z.string(),
  ref: z.string(),
  message: z.string(),
});
export const findingPageSchema = z.object({ findings: z.array(findingSchema), page: pageInfoSchema });
export type FindingPage = z.infer<typeof findingPageSchema>;

export const heldBatchSchema = z
  .object({
    batchId: z.string(),
    syncRunId: z.string(),
    status: z
      .string()
      .describe(
        'pending (decidable until decided; later runs update its items), approved, discarded (holds until the people’s data changes) or superseded (nothing left to decide)',
      ),
    createdAt: z.string().nullable(),
    types: z.array(z.object({ entityType: z.string(), count: z.number().int(), reason: z.string() })),
    total: z.number().int(),
    decidedBy: z.string().nullable(),
    decidedAt: z.string().nullable(),
    comment: z.string().nullable(),
    kind: z
      .string()
      .describe(
        'removals: the run’s suspicious removals and what depends on them (additions and updates were applied); whole_run: the document looked like a different school, so nothing of the run was applied',
      ),
    reason: z.string().nullable().describe('Why it was held, in plain words'),
    version: z
      .number()
      .int()
      .describe('Bumped whenever a later run changes the items; send it with approve/discard'),
    updatedAt: z.string().nullable().describe('When a later run last changed the items'),
    lastSyncRunId: z.string().describe('The run that last changed the items'),
    approvalState: z
      .enum(['applying', 'applied', 'failed'])
      .nullable()
      .describe(
        'An approved batch: applying (the approval is recorded and is being applied; the run turns from held to applied when done), applied, or failed (the run’s error says why); null otherwise',
      ),
  })
  .meta({ id: 'HeldBatch' });
export type HeldBatch = z.infer<typeof heldBatchSchema>;
export const heldBatchListSchema = z.object({ batches: z.array(heldBatchSchema), page: pageInfoSchema });
export type HeldBatchList = z.infer<typeof heldBatchListSchema>;
export const heldBatchDetailSchema = z.object({
  batch: heldBatchSchema,
  records: z.array(changeSchema),
  page: pageInfoSchema,
});
export type HeldBatchDetail = z.infer<typeof heldBatchDetailSchema>;

export const decideBodySchema = z
  .object({
    comment: z.string().trim().max(1000).default(''),
    version: z
      .number()
      .int()
      .min(1)
      .max(2_147_483_647)
      .optional()
      .describe(
        'The batch version shown to the admin; a batch changed since is refused (409 ROSTER_HELD_BATCH_CHANGED). Absent: the current version',
      ),
  })
  .strict();

const thresholdFields = {
  percent: z
    .number()
    .int()
    .min(0)
    .max(100)
    .describe('Hold when removals exceed this percentage of the stored active records …'),
  min: z.number().int().min(0).max(1_000_000).describe('… and also exceed this many records'),
};
export const thresholdSchema = z.object(thresholdFields).strict();

export const removalThresholdsSchema = z
  .object({
    default: thresholdSchema.describe('For every entity type without its own threshold'),
    byType: z
      .array(z.object({ entityType: entityTypeSchema, ...thresholdFields }).strict())
      .max(ENTITY_TYPES.length)
      .describe('Per-entity-type thresholds that replace the default for that type'),
    entityTypes: z
      .array(entityTypeSchema)
      .describe('Read-only: every entity type a threshold can be set for'),
  })
  .meta({ id: 'RemovalThresholds' });
export type RemovalThresholds = Omit<z.infer<typeof removalThresholdsSchema>, 'entityTypes'>;

export const putRemovalThresholdsBodySchema = z
  .object({
    default: thresholdSchema.optional().describe('Omit to keep the stored default'),
    byType: removalThresholdsSchema.shape.byType
      .refine((list) => new Set(list.map((t) => t.entityType)).size === list.length, {
        message: 'each entity type at most once',
      })
      .optional()
      .describe('Replaces every per-type threshold (an empty list removes them all); omit to keep them'),
  })
  .strict();
export type PutRemovalThresholdsBody = z.infer<typeof putRemovalThresholdsBodySchema>;

export const runUndoSchema = z
  .object({
    syncRunId: z.string(),
    status: z.enum(['possible', 'undoing', 'undone']).describe('possible: not undone yet (a preview)'),
    restore: z
      .array(z.object({ entityType: z.string(), entityId: z.string() }))
      .describe('Before: what undoing restores now; after: what the undo restored'),
    skipped: z
      .array(
        z.object({
          reason: z.string().describe('active_again, removed_by_later_run, purged'),
          count: z.number().int(),
        }),
      )
      .describe('What the run removed that is not restored, and why'),
    expiresAt: z.string().nullable().describe('Until when the run can be undone (the removal grace period)'),
    undoneBy: z.string().nullable(),
    undoneAt: z.string().nullable(),
    comment: z.string().nullable(),
  })
  .meta({ id: 'RunUndo' });
export type RunUndo = z.infer<typeof runUndoSchema>;
