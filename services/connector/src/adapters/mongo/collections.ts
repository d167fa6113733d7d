import type { CollectionIndexSpec } from '@isams-sync/mongo';
import { leaseIndexes } from '@isams-sync/mongo';

export const COLLECTIONS = {
  settings: 'data_source_settings',
  /** When each school next runs and its failure streak (`_id` = tenant id; domain/schedule). */
  schedules: 'sync_schedules',
  runs: 'sync_runs',
  activeRuns: 'active_runs',
  runQueue: 'run_queue',
  leases: 'run_leases',
  /** The decided step of each run status (`<runId>|<step>`, libs/mongo step claims). */
  runSteps: 'run_steps',
  /** The roster's reports of each run as they came (`<tenant>|<runId>|<sequence>`), applied from here. */
  runReports: 'run_reports',
  appliedSnapshots: 'applied_snapshots',
  scheduleClaims: 'schedule_claims',
  fetchPlans: 'fetch_plans',
  /** Append-only record of iSAMS address changes (who, when, old and new host; never the key). */
  settingsAudit: 'settings_audit',
  /** Per school: the last fetch sequence taken (`_id` = tenant id; RunStore.nextFetchSequence). */
  fetchSequences: 'fetch_sequences',
  /** Per school: when the data now in SchoolCloud was fetched (`_id` = tenant id). */
  dataFreshness: 'data_freshness',
  /** One per (school, condition, local day): the claim that lets one replica send that e-mail. */
  notifications: 'notifications',
} as const;

/** Every index the connector needs (created at start-up, idempotently). */
export const CONNECTOR_INDEXES: CollectionIndexSpec[] = [
  // Settings are read and written by `_id`; the freshness gauges read the enabled schools. (Stores made
  // before `sync_schedules` also hold `settings_due` on {enabled, nextRunAt}: unused, left in place.)
  { collection: COLLECTIONS.settings, indexes: [{ key: { enabled: 1 }, name: 'settings_enabled' }] },
  // The scheduler's due schedules, the oldest first.
  { collection: COLLECTIONS.schedules, indexes: [{ key: { nextRunAt: 1 }, name: 'schedules_due' }] },
  {
    collection: COLLECTIONS.runs,
    indexes: [
      { key: { tenantId: 1, requestedAt: -1 }, name: 'runs_tenant_requested' },
      { key: { status: 1, requestedAt: 1 }, name: 'runs_status' },
    ],
  },
  { collection: COLLECTIONS.activeRuns, indexes: [{ key: { tenantId: 1 }, name: 'active_tenant' }] },
  { collection: COLLECTIONS.runQueue, indexes: [{ key: { requestedAt: 1 }, name: 'queue_requested' }] },
  leaseIndexes(COLLECTIONS.leases),
  // Read and written by `_id`; the retention prune finds the old ones by their date.
  { collection: COLLECTIONS.runSteps, indexes: [{ key: { claimedAt: 1 }, name: 'steps_claimed_at' }] },
  // A run's newest kept report; the old ones (retention prune).
  {
    collection: COLLECTIONS.runReports,
    indexes: [
      { key: { syncRunId: 1, sequence: -1 }, name: 'reports_run_sequence' },
      { key: { keptAt: 1 }, name: 'reports_kept_at' },
    ],
  },
  {
    collection: COLLECTIONS.settingsAudit,
    indexes: [
      { key: { tenantId: 1, at: -1 }, name: 'audit_tenant_at' },
      // The retention's prune of every school's old entries.
      { key: { at: 1 }, name: 'audit_at' },
    ],
  },
  { collection: COLLECTIONS.scheduleClaims, indexes: [{ key: { claimedAt: 1 }, name: 'claims_claimed_at' }] },
  // Read and written by `_id` only.
  { collection: COLLECTIONS.dataFreshness, indexes: [] },
  { collection: COLLECTIONS.fetchSequences, indexes: [] },
  {
    collection: COLLECTIONS.notifications,
    indexes: [
      { key: { tenantId: 1, claimedAt: -1 }, name: 'notifications_tenant_claimed' },
      // The retention's prune of every school's old claims.
      { key: { claimedAt: 1 }, name: 'notifications_claimed' },
    ],
  },
];
