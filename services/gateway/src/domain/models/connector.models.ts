import { TERMINAL_SYNC_RUN_STATUSES } from '@isams-sync/events';
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
    timeZone: z.string().describe('IANA time zone of the school (Europe/London unless chosen)'),
    notificationEmails: z
      .array(z.string())
      .describe('Who is e-mailed about held removals, failing runs and stale data'),
    version: z
      .number()
      .int()
      .describe('Goes up by one with every save (0: nothing saved yet); send it with PUT …/settings'),
  })
  .meta({ id: 'DataSourceSettings' });
export type DataSourceSettings = z.infer<typeof dataSourceSettingsSchema>;

/** At most this many addresses are e-mailed about a school (the connector enforces the same). */
export const MAX_NOTIFICATION_EMAILS = 10;
/**
 * An address to notify, as the connector checks it (services/connector settings-rules.ts): a local
 * part of 1–64 characters without spaces or list separators, one @, a dotted host name. Written
 * without regex flags so the OpenAPI document states exactly what is accepted.
 */
const NOTIFICATION_EMAIL_PATTERN =
  /^[^\s@,;<>"]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

export const putSettingsBodySchema = z
  .object({
    isamsUrl: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .optional()
      .describe('Required the first time; omit to keep the stored address'),
    apiKey: z
      .string()
      .trim()
      .min(8)
      .max(256)
      .optional()
      .describe('Write-only; omit to keep the stored key (required the first time)'),
    format: z
      .enum(['xml', 'json'])
      .optional()
      .describe('Omit to keep the stored format (xml the first time)'),
    scheduleMinutes: z
      .number()
      .int()
      .min(60)
      .max(1440)
      .optional()
      .describe('Minutes between scheduled runs; omit to keep the stored schedule (60 the first time)'),
    enabled: z
      .boolean()
      .optional()
      .describe('false pauses scheduled runs; omit to keep the stored value (true the first time)'),
    timeZone: z
      .string()
      .trim()
      .min(1)
      .max(64)
      .optional()
      .describe('IANA time zone of the school, e.g. Europe/London; omit to keep the stored one'),
    notificationEmails: z
      .array(
        z
          .string()
          .max(254)
          .regex(NOTIFICATION_EMAIL_PATTERN, { error: 'must be an e-mail address, e.g. office@school.org' }),
      )
      .max(MAX_NOTIFICATION_EMAILS)
      .optional()
      .describe(
        'Who is e-mailed about held removals, failing runs and stale data; replaces the list; omit to keep it',
      ),
    version: z
      .number()
      .int()
      .min(0)
      .max(2_147_483_647)
      .optional()
      .describe(
        'The settings version the form was loaded at (0: the school had none); settings saved since are refused (409 CONNECTOR_SETTINGS_CHANGED: reload, then save again) and nothing changes. Absent: saved over the current settings',
      ),
  })
  .strict()
  .describe('Fields left out keep their stored values, so a form saves only what it shows');
export type PutSettingsBody = z.infer<typeof putSettingsBodySchema>;

/** The complete settings the gateway sends to the connector (its PutSettings replaces them). */
export interface PutSettingsInput {
  isamsUrl: string;
  apiKey?: string;
  format: 'xml' | 'json';
  scheduleMinutes: number;
  enabled: boolean;
  timeZone: string;
  notificationEmails: string[];
  /**
   * The version the settings are saved over: the connector stores them only while the stored ones
   * are at it (-1: only while there are none), else refuses with `CONNECTOR_SETTINGS_CHANGED`.
   */
  expectedVersion: number;
}

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
    egressIps: z.array(z.string()).describe('The public addresses to allow-list in iSAMS'),
    integratorProperties: z.array(z.string()).describe('The names to enter where iSAMS asks for them'),
    instructions: z.string(),
    datasets: z
      .array(z.string())
      .describe(
        'The 14 datasets to tick on the key, as the help article names them ("HR Manager Datasets - Current Staff", …)',
      ),
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
        'requested, fetching, fetched, published, applying, applied, unchanged, held, failed, cancelled, discarded (the run was held and an admin discarded its held changes; `heldBatchId` names the batch, which says who and when), superseded (the run was held and a later sync left nothing of its held batch to decide: its held changes were never applied, and no decision is needed)',
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

/**
 * The statuses of an ended run (a held one still becomes `applied`, `discarded` or `superseded` when
 * its batch is decided).
 */
export const SYNC_RUN_TERMINAL_STATUSES = TERMINAL_SYNC_RUN_STATUSES;

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

export const notificationRecordSchema = z
  .object({
    condition: z.enum(['removals_held', 'runs_failing', 'data_stale']),
    day: z
      .string()
      .describe("The school's local day (YYYY-MM-DD) the e-mail counts for: one per condition per day"),
    sentAt: isoOrNull.describe('Null while it is being sent'),
    recipients: z.number().int(),
    subject: z.string(),
  })
  .meta({ id: 'NotificationRecord' });
export type NotificationRecord = z.infer<typeof notificationRecordSchema>;

/** The connector's stored freshness of a school's data and the e-mails of the last 7 days. */
export interface SyncStatus {
  dataAsOf: string | null;
  dataAsOfRunId: string | null;
  notifications: NotificationRecord[];
}
