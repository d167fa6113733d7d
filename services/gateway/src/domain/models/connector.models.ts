import { z } from 'zod';
import { pageInfoSchema } from './common.models';

const isoOrNull = z.string().nullable().describe('RFC 3339, or null when not reached/not set');

/** What an admin should do about a failure, with its stable code. */
export const runErrorSchema = z
  .object({
    code: z.string(),
    message: z.string(),
    adminAction: z.string().describe('What to change (usually in iSAMS) to fix it'),
    transient: z.boolean().describe('True when retrying later may succeed without any change'),
  })
  .meta({ id: 'RunError' });
export type RunError = z.infer<typeof runErrorSchema>;

export const fetchPlanSchema = z
  .object({
    mode: z
      .enum(['whole', 'groups'])
      .describe('whole: one request for the whole key; groups: one request per method group (MethodsToRun)'),
    groups: z
      .array(
        z.object({
          datasetIds: z.array(z.string()),
          status: z.string().nullable().describe('In a run: pending, done or failed'),
          requests: z.number().int().describe('In a run: how many times the group was requested'),
        }),
      )
      .describe('The method groups, in request order (empty for a whole-key fetch)'),
    contactsMethod: z
      .string()
      .nullable()
      .describe('The Contacts (Filtered) method name iSAMS accepted, when known'),
    switchedBecause: z
      .string()
      .nullable()
      .describe('The error that made SchoolCloud fetch this school in groups, e.g. ISAMS_TIMEOUT'),
    switchedAt: isoOrNull,
  })
  .meta({ id: 'FetchPlan' });
export type FetchPlan = z.infer<typeof fetchPlanSchema>;

export const dataSourceSettingsSchema = z
  .object({
    configured: z.boolean(),
    isamsUrl: z.string().nullable(),
    keyLast4: z.string().nullable().describe('Only the last 4 characters; the key is write-only'),
    format: z.enum(['xml', 'json']),
    scheduleMinutes: z.number().int(),
    enabled: z.boolean(),
    nextRunAt: isoOrNull,
    updatedAt: isoOrNull,
    updatedBy: z.string().nullable(),
    keyUpdatedAt: isoOrNull,
    fetchPlan: fetchPlanSchema.describe(
      'How runs fetch the school: the whole key, or method groups after iSAMS timed out on the whole key',
    ),
  })
  .meta({ id: 'DataSourceSettings' });
export type DataSourceSettings = z.infer<typeof dataSourceSettingsSchema>;

export const putSettingsBodySchema = z
  .object({
    isamsUrl: z.url({ protocol: /^https?$/ }).max(2048),
    apiKey: z
      .string()
      .trim()
      .min(8)
      .max(256)
      .optional()
      .describe('Write-only; omit to keep the stored key (required the first time)'),
    format: z.enum(['xml', 'json']).default('xml'),
    scheduleMinutes: z.number().int().min(60).max(1440).default(60),
    enabled: z.boolean().default(true),
    timeZone: z
      .string()
      .trim()
      .min(1)
      .max(64)
      .optional()
      .describe('IANA time zone of the school (default Europe/London): what "an evening open today" means'),
  })
  .strict();
export type PutSettingsInput = z.infer<typeof putSettingsBodySchema>;

export const testConnectionBodySchema = z
  .object({
    isamsUrl: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .optional(),
    apiKey: z.string().trim().min(8).max(256).optional(),
    format: z.enum(['xml', 'json']).optional(),
  })
  .strict()
  .describe('Optional values to test instead of the stored ones (e.g. before saving)');
export type TestConnectionInput = z.infer<typeof testConnectionBodySchema>;

export const datasetCheckSchema = z.object({
  datasetId: z.string(),
  adminName: z.string().describe('What to tick in iSAMS, e.g. "Teaching Manager – Teaching Set Lists"'),
  present: z.boolean(),
  recordCount: z.number().int(),
});

export const testConnectionResultSchema = z
  .object({
    ok: z.boolean(),
    datasets: z.array(datasetCheckSchema),
    missing: z.array(z.string()).describe('Admin names of the datasets the key did not return'),
    durationMs: z.number().int(),
    bytes: z.number().int(),
    error: runErrorSchema.nullable(),
  })
  .meta({ id: 'TestConnectionResult' });
export type TestConnectionResult = z.infer<typeof testConnectionResultSchema>;

export const egressInfoSchema = z
  .object({
    egressIps: z.array(z.string()),
    integratorProperties: z.array(z.string()),
    instructions: z.string(),
  })
  .meta({ id: 'EgressInfo' });
export type EgressInfo = z.infer<typeof egressInfoSchema>;

export const syncRunDatasetSchema = z.object({
  datasetId: z.string(),
  adminName: z.string(),
  present: z.boolean(),
  recordCount: z.number().int(),
  bytes: z.number().int(),
  chunkCount: z.number().int(),
});

export const syncRunSchema = z
  .object({
    syncRunId: z.string(),
    status: z
      .string()
      .describe(
        'requested, fetching, fetched, published, applying, applied, unchanged, held, failed, cancelled',
      ),
    terminal: z.boolean(),
    trigger: z.object({ kind: z.string(), actor: z.string().nullable() }),
    dryRun: z.boolean(),
    requestedAt: isoOrNull,
    fetchStartedAt: isoOrNull,
    fetchedAt: isoOrNull,
    publishedAt: isoOrNull,
    finishedAt: isoOrNull,
    fetchDurationMs: z.number().int(),
    publishDurationMs: z.number().int(),
    progress: z.object({
      datasetsDone: z.number().int(),
      datasetsTotal: z.number().int(),
      recordsFetched: z.number().int(),
      bytesFetched: z.number().int(),
      chunksPublished: z.number().int(),
      chunksTotal: z.number().int(),
      groupsDone: z.number().int().describe('Method groups fetched (0 for a whole-key fetch)'),
      groupsTotal: z.number().int(),
    }),
    fetch: fetchPlanSchema.nullable().describe('How this run fetched the document, once known'),
    datasets: z.array(syncRunDatasetSchema),
    absentDatasets: z.array(z.string()),
    error: runErrorSchema.nullable(),
    rosterStatus: z.string().nullable(),
    rosterCounts: z
      .record(z.string(), z.unknown())
      .nullable()
      .describe("The roster's change counts per entity and change kind"),
    heldBatchId: z.string().nullable(),
    updatedAt: isoOrNull,
  })
  .meta({ id: 'SyncRun' });
export type SyncRun = z.infer<typeof syncRunSchema>;

export const syncRunPageSchema = z.object({ runs: z.array(syncRunSchema), page: pageInfoSchema });
export type SyncRunPage = z.infer<typeof syncRunPageSchema>;

export const SYNC_RUN_TERMINAL_STATUSES = ['applied', 'unchanged', 'held', 'failed', 'cancelled'] as const;

export const triggerSyncBodySchema = z
  .object({
    dryRun: z.boolean().default(false),
    confirmLiveEvents: z
      .boolean()
      .default(false)
      .describe('Set after the admin saw the live-event warning (bookings of removed people are cancelled)'),
  })
  .strict();

export const triggerSyncResultSchema = z.object({
  run: syncRunSchema,
  alreadyActive: z.boolean().describe('True when the school already had a queued or running run'),
});
export type TriggerSyncResult = z.infer<typeof triggerSyncResultSchema>;

export const listRunsQuerySchema = z.object({
  pageSize: z.coerce.number().int().min(1).max(100).default(20),
  pageToken: z.string().max(512).optional(),
  status: z
    .string()
    .regex(/^[a-z]+(,[a-z]+)*$/)
    .optional()
    .describe('Comma-separated statuses to include'),
  trigger: z.enum(['schedule', 'manual']).optional(),
});
