import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { env, loadConfig } from '@isams-sync/config';
import { RAW_ELEMENT_MAX_DEPTH, TopicNames } from '@isams-sync/events';
import { DEFAULT_PARSER_LIMITS } from '@isams-sync/isams';
import { z } from 'zod';
import { backendServiceConfig, mongoServiceConfig } from '@isams-sync/service-shell';
import { DEFAULT_CONTACTS_METHODS } from './domain/method-groups';

/**
 * The default of `CONNECTOR_PARSE_WORKERS`: none — the parse on the main thread. On this project's
 * two-core machines a worker made an isolated connector ~5–10 % faster but the whole system no
 * faster (every core is busy there), at ~0.2 s more CPU per large school; the chart gives the
 * connector one CPU. A deployment that gives it two or more turns one on (docs/configuration.md).
 */
export const DEFAULT_PARSE_WORKERS = 0;

/**
 * Environment of the connector (see docs/configuration.md › connector and the README). Durations
 * accept `500ms`, `30s`, `5m`, `1h` or plain milliseconds.
 */
export const configSchema = z.object({
  ...backendServiceConfig,
  RAW_DATASETS_TOPIC: z.string().trim().min(1).default(TopicNames.rawDatasets),
  SYNC_RUNS_TOPIC: z.string().trim().min(1).default(TopicNames.syncRuns),
  SYNC_RUNS_GROUP_ID: z.string().trim().min(1).default('connector.sync-runs'),
  ...mongoServiceConfig('connector'),
  CONNECTOR_KEK: env.secret({ minLength: 40 }),
  CONNECTOR_KEK_ID: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_-]{1,32}$/)
    .default('k1'),
  CONNECTOR_KEK_PREVIOUS: env.secret().optional(),
  EGRESS_PROXY_URL: env.secret().optional(),
  EGRESS_IPS: env.csv().optional(),
  /**
   * Development only: let the connector reach private, loopback and cluster-internal addresses (the
   * local simulator). Off, only public addresses are requested (docs/security.md › Egress).
   */
  CONNECTOR_ALLOW_PRIVATE_EGRESS: env.bool().default(false),
  /** iSAMS host-name suffixes the connector may request (label boundary); unset = any public host. */
  CONNECTOR_ISAMS_HOST_SUFFIXES: env
    .csv()
    .refine((items) => items.every((s) => /^\.?([a-z0-9-]+\.)*[a-z0-9-]+$/i.test(s)), {
      message: 'expected host-name suffixes such as .isams.cloud, comma-separated',
    })
    .transform((items) => items.map((s) => `.${s.toLowerCase().replace(/^\./, '')}`))
    .optional(),
  /** Ports an https iSAMS address may name (when private egress is off). */
  CONNECTOR_ISAMS_PORTS: env
    .csv()
    .refine((items) => items.every((p) => /^\d+$/.test(p) && Number(p) >= 1 && Number(p) <= 65535), {
      message: 'expected TCP ports 1-65535, comma-separated',
    })
    .transform((items) => items.map(Number))
    .default([443]),
  ISAMS_ALLOW_INSECURE_LOOPBACK: env.bool().default(false),
  ISAMS_CONNECT_TIMEOUT_MS: env.durationMs().default(10_000),
  ISAMS_READ_TIMEOUT_MS: env.durationMs().default(60_000),
  ISAMS_TOTAL_TIMEOUT_MS: env.durationMs().default(10 * 60_000),
  ISAMS_MAX_BYTES: env.int({ min: 1024 }).default(512 * 1024 * 1024),
  /**
   * How far a whole-key download may run ahead of its parse, in memory, when the school's last
   * applied document may come again: the parse waits for a body that fits, and one with the applied
   * document's bytes is not parsed (the byte-identical skip).
   */
  ISAMS_READ_AHEAD_BYTES: env.int({ min: 0 }).default(16 * 1024 * 1024),
  /** Parser limits (libs/isams ParserLimits): a document past one fails its run with its own ISAMS_* code. */
  // At most RAW_ELEMENT_MAX_DEPTH + 3: a record sits three levels below the root (iSAMS › module ›
  // container), and a raw chunk may carry records at most RAW_ELEMENT_MAX_DEPTH deep (libs/events).
  ISAMS_MAX_DEPTH: env
    .int({ min: 8, max: RAW_ELEMENT_MAX_DEPTH + 3 })
    .default(DEFAULT_PARSER_LIMITS.maxDepth),
  ISAMS_MAX_RECORD_BYTES: env.int({ min: 4096 }).default(DEFAULT_PARSER_LIMITS.maxRecordBytes),
  ISAMS_MAX_RECORDS_PER_DATASET: env.int({ min: 1 }).default(DEFAULT_PARSER_LIMITS.maxRecordsPerDataset),
  ISAMS_MAX_RECORDS_PER_DOCUMENT: env.int({ min: 1 }).default(DEFAULT_PARSER_LIMITS.maxRecordsPerDocument),
  /**
   * Worker threads that parse the documents (the XML/JSON reader and each record's canonical JSON),
   * so the parse runs on its own core beside the spool and the publish; 0 (the default) parses on
   * the main thread.
   */
  CONNECTOR_PARSE_WORKERS: env.int({ min: 0, max: 16 }).default(DEFAULT_PARSE_WORKERS),
  ISAMS_RETRY_ATTEMPTS: env.int({ min: 1, max: 10 }).default(3),
  ISAMS_RETRY_BASE_MS: env.durationMs().default(2_000),
  ISAMS_RETRY_MAX_MS: env.durationMs().default(30_000),
  /**
   * Candidate `MethodsToRun` names of Contacts (Filtered), tried in order when a school is fetched in
   * method groups (the real name is unknown; the one iSAMS accepts is remembered per school).
   */
  ISAMS_CONTACTS_METHODS: env
    .csv()
    .refine((names) => names.every((n) => /^[A-Za-z][A-Za-z0-9_]*$/.test(n)), {
      message: 'expected method names such as Pupil_GetContactsFiltered, comma-separated',
    })
    .default([...DEFAULT_CONTACTS_METHODS]),
  SCHEDULER_ENABLED: env.bool().default(true),
  SCHEDULER_TICK_MS: env.durationMs().default(15_000),
  /** Schedules are spread by up to this much (deterministic per school). */
  SCHEDULE_JITTER_MS: env.durationMs().default(5 * 60_000),
  SYNC_CONCURRENCY: env.int({ min: 1, max: 64 }).default(4),
  /** Connection tests running at once in one replica (each school: one at a time across replicas). */
  CONNECTOR_MAX_CONCURRENT_TESTS: env.int({ min: 1, max: 64 }).default(4),
  /** A run's lease; a replica that stops renewing it for this long is presumed dead. */
  RUN_LEASE_TTL_MS: env.durationMs().default(60_000),
  STALE_SWEEP_INTERVAL_MS: env.durationMs().default(30_000),
  /**
   * Runs (the schools' run history) are kept this many days after they were requested, then dropped
   * (domain/run-retention); their step claims and kept reports go a day after they ended.
   */
  RUN_HISTORY_DAYS: env.int({ min: 1, max: 3650 }).default(400),
  /** Address changes (`settings_audit`: who changed a school's iSAMS address) are kept this long. */
  AUDIT_RETENTION_DAYS: env.int({ min: 30, max: 3650 }).default(730),
  MANUAL_TRIGGER_LIMIT: env.int({ min: 1 }).default(6),
  MANUAL_TRIGGER_WINDOW_MS: env.durationMs().default(60 * 60_000),
  MAX_CHUNK_BYTES: env.int({ min: 4096, max: 900 * 1024 }).default(512 * 1024),
  SPOOL_DIR: z.string().trim().min(1).default(join(tmpdir(), 'isams-sync-connector-spool')),
  /**
   * Bytes all runs of one connector may spool together; past it a run fails with the transient
   * CONNECTOR_SPOOL_FULL. Keep it below the spool volume's size (the chart derives both).
   */
  CONNECTOR_SPOOL_QUOTA_BYTES: env.int({ min: 1024 * 1024 }).default(1024 * 1024 * 1024),
  PROGRESS_INTERVAL_MS: env.durationMs().default(1_000),
  /** E-mail notifications (docs/configuration.md › connector): off while SMTP_HOST is unset. */
  SMTP_HOST: z.string().trim().min(1).optional(),
  SMTP_PORT: env.port().default(587),
  /** `starttls` (required upgrade, port 587), `implicit` (TLS from the start, port 465) or `none`. */
  SMTP_TLS: env.enum(['starttls', 'implicit', 'none']).default('starttls'),
  SMTP_USER: z.string().trim().min(1).optional(),
  SMTP_PASSWORD: env.secret().optional(),
  SMTP_TIMEOUT_MS: env.durationMs().default(30_000),
  NOTIFY_FROM: z.string().trim().min(3).default('SchoolCloud iSAMS sync <no-reply@schoolcloud.co.uk>'),
  /** The Data Dashboard's public address, for links in e-mails (none when unset). */
  DASHBOARD_URL: env.url({ protocols: ['https', 'http'] }).optional(),
  NOTIFY_FAILURE_STREAK: env.int({ min: 1, max: 50 }).default(3),
  NOTIFY_STALE_AFTER_MS: env.durationMs().default(24 * 3_600_000),
  NOTIFY_CHECK_INTERVAL_MS: env.durationMs().default(15 * 60_000),
});

export type ConnectorConfig = z.infer<typeof configSchema>;

/** Rules across variables, checked with the rest at start-up. */
const checkedSchema = configSchema.superRefine((c, ctx) => {
  if (c.ISAMS_ALLOW_INSECURE_LOOPBACK && !c.CONNECTOR_ALLOW_PRIVATE_EGRESS) {
    ctx.addIssue({
      code: 'custom',
      path: ['ISAMS_ALLOW_INSECURE_LOOPBACK'],
      message:
        'requires CONNECTOR_ALLOW_PRIVATE_EGRESS=true (loopback addresses are private; both are for development only)',
    });
  }
});

export function loadConnectorConfig(e: Record<string, string | undefined> = process.env): ConnectorConfig {
  return loadConfig(checkedSchema, e);
}
