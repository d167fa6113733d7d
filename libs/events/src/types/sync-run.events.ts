import { z } from 'zod';
import { datasetIdSchema, syncTriggerSchema } from './raw-dataset.events';
import { defineEventType } from '../define-event-type';

/**
 * Every state a sync run passes through, in order (terminal: applied, unchanged, held, failed,
 * cancelled; a held run then ends `applied` when an admin approves its held batch, `discarded`
 * when an admin discards it, or `superseded` when a later run left nothing of it to decide).
 */
export const SYNC_RUN_STATUSES = [
  'requested',
  'fetching',
  'fetched',
  'published',
  'applying',
  'applied',
  'unchanged',
  'held',
  'failed',
  'cancelled',
  'discarded',
  'superseded',
] as const;
export type SyncRunStatus = (typeof SYNC_RUN_STATUSES)[number];
export const TERMINAL_SYNC_RUN_STATUSES: readonly SyncRunStatus[] = [
  'applied',
  'unchanged',
  'held',
  'failed',
  'cancelled',
  'discarded',
  'superseded',
];

/** A whole number of records, bytes, datasets or changes. */
const count = z.number().int().nonnegative();

/** A strict object of {@link count}s, one per name (in this order). */
function countsOf<K extends string>(names: readonly K[]) {
  return z.object(Object.fromEntries(names.map((name) => [name, count])) as Record<K, typeof count>).strict();
}

const changeCounts = countsOf(['added', 'updated', 'removed', 'restored', 'held', 'unchanged', 'skipped']);

/**
 * A sync run changed state. Emitted by the connector (requested … published, failed, cancelled,
 * unchanged) and by the roster (applying, applied, held, failed; after an admin's decision on the
 * run's held batch, applied or discarded; superseded when a later run left nothing of the batch to
 * decide). `sequence` increases per run and reporter, so a consumer keeps the latest state per
 * (syncRunId, reportedBy).
 */
export const syncRunUpdatedV1 = defineEventType({
  type: 'com.schoolcloud.isams-sync.sync.run.updated.v1',
  source: '/isams-sync/sync',
  // 1.1.0: status `discarded` — an admin discarded the run's held batch (additive: a new enum value).
  // 1.2.0: status `superseded` — a later run left nothing of the run's held batch to decide (additive).
  schemaVersion: '1.2.0',
  description:
    'A sync run changed state (requested, fetching, fetched, published, applying, applied, unchanged, held, failed, cancelled, discarded, superseded), with progress, counts and, on failure, an error code and what the admin should do.',
  schema: z
    .object({
      syncRunId: z.string().min(1).max(64),
      status: z.enum(SYNC_RUN_STATUSES),
      reportedBy: z.enum(['connector', 'roster']),
      sequence: z.number().int().nonnegative(),
      at: z.iso.datetime({ offset: true }),
      trigger: syncTriggerSchema,
      dryRun: z.boolean(),
      progress: countsOf([
        'datasetsDone',
        'datasetsTotal',
        'recordsFetched',
        'bytesFetched',
        'chunksPublished',
      ]).optional(),
      datasets: z
        .array(
          z
            .object({
              datasetId: datasetIdSchema,
              present: z.boolean(),
              recordCount: count,
              bytes: count,
            })
            .strict(),
        )
        .optional(),
      /** Per entity type (e.g. `pupil`, `staff`, `setMembership`) counts of changes, from the roster. */
      counts: z.record(z.string(), changeCounts).optional(),
      /** With `held`, `discarded` and `superseded`: the held batch. */
      heldBatchId: z.string().optional(),
      /**
       * With `held`, `discarded` and `superseded`: `removals` (additions and updates were applied; removals wait for an admin) or
       * `whole_run` (nothing was applied: the document looked like another school's).
       */
      holdKind: z.enum(['removals', 'whole_run']).optional(),
      error: z
        .object({
          code: z.string(),
          message: z.string(),
          adminAction: z.string().optional(),
          transient: z.boolean(),
        })
        .strict()
        .optional(),
    })
    .strict(),
});
