import { env, loadConfig } from '@isams-sync/config';
import { TopicNames } from '@isams-sync/events';
import { z } from 'zod';
import { backendServiceConfig, mongoServiceConfig } from '@isams-sync/service-shell';

/**
 * Environment of the roster (see docs/configuration.md › roster and the README). Durations accept
 * `500ms`, `30s`, `5m`, `1h` or plain milliseconds.
 */
export const configSchema = z.object({
  ...backendServiceConfig,
  RAW_DATASETS_TOPIC: z.string().trim().min(1).default(TopicNames.rawDatasets),
  ROSTER_CHANGES_TOPIC: z.string().trim().min(1).default(TopicNames.rosterChanges),
  ROSTER_STATE_TOPIC: z.string().trim().min(1).default(TopicNames.rosterState),
  /** Least data: the directory projection's topics (docs/events.md › Who gets what). */
  ROSTER_CHANGES_DIRECTORY_TOPIC: z.string().trim().min(1).default(TopicNames.rosterChangesDirectory),
  ROSTER_STATE_DIRECTORY_TOPIC: z.string().trim().min(1).default(TopicNames.rosterStateDirectory),
  SYNC_RUNS_TOPIC: z.string().trim().min(1).default(TopicNames.syncRuns),
  RAW_DATASETS_GROUP_ID: z.string().trim().min(1).default('roster.raw-datasets'),
  ...mongoServiceConfig('roster'),
  /** Soft-removed people keep their personal data this long, then it is purged. */
  REMOVAL_GRACE_DAYS: env.int({ min: 0, max: 365 }).default(14),
  /** Default removal brake: hold a type's removals above this percentage of its stored entities … */
  HOLD_THRESHOLD_PERCENT: env.int({ min: 0, max: 100 }).default(10),
  /** … and above this many records (both must be exceeded). Per-school overrides via SetRemovalThresholds. */
  HOLD_THRESHOLD_MIN: env.int({ min: 0 }).default(5),
  /**
   * A run whose marker arrived but whose chunks never all arrived fails after this; the staged
   * chunks of a run whose marker never came are dropped once its newest chunk is this old.
   */
  INCOMPLETE_RUN_TIMEOUT_MS: env.durationMs().default(30 * 60_000),
  /** How often the sweeper fails incomplete runs, purges people past their grace period and drops abandoned chunks. */
  SWEEP_INTERVAL_MS: env.durationMs().default(60_000),
  /** Lifetime of a replica's lease on a school (renewed every third of it while the work runs). */
  TENANT_LEASE_TTL_MS: env.durationMs().default(60_000),
  /**
   * Staged raw chunks this process keeps in hand until their run is planned (MB of JSON as received;
   * 0: none, the plan reads every chunk back). A run bigger than this is read back in part.
   */
  STAGED_CHUNK_MEMORY_MB: env.int({ min: 0, max: 4096 }).default(64),
  /**
   * Entity images the last plans had in hand, kept for the next run's diff (how many; 0: none, the
   * changed entities' images are read). Schools are evicted whole, least recently used first.
   */
  IMAGE_MEMORY_ENTITIES: env.int({ min: 0, max: 10_000_000 }).default(100_000),
  /** Approve/discard wait this long for a school another replica is processing, then fail UNAVAILABLE. */
  TENANT_LEASE_WAIT_MS: env.durationMs().default(20_000),
});

export type RosterConfig = z.infer<typeof configSchema>;

export function loadRosterConfig(e: Record<string, string | undefined> = process.env): RosterConfig {
  return loadConfig(configSchema, e);
}
