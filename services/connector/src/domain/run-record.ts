import type { DatasetId } from '@isams-sync/isams';
import type { TraceCarrier } from '@isams-sync/telemetry';
import type { RunFetch } from './method-groups';
import type { SourceFormat } from './settings-rules';
import type {
  DocumentReading,
  RunDatasetStats,
  RunError,
  RunProgress,
  RunStatus,
  RunTrigger,
} from './sync-run';

export interface RunFinding {
  code: string;
  datasetId: DatasetId;
  recordId?: string;
  path?: string;
  message: string;
}

/** A sync run (`_id` = sync run id). */
export interface RunRecord {
  _id: string;
  tenantId: string;
  status: RunStatus;
  trigger: RunTrigger;
  dryRun: boolean;
  requestedAt: Date;
  fetchStartedAt?: Date;
  /**
   * The run's place in its school's fetch order, taken as it starts fetching (sent in its marker):
   * greater than that of every run of the school fetched before it. `fetchedAt` is the clock of the
   * replica that fetched the run, which may disagree with another's: what orders a school's runs is
   * this. Absent on runs started before it was kept.
   */
  fetchSequence?: number;
  fetchedAt?: Date;
  publishedAt?: Date;
  finishedAt?: Date;
  fetchDurationMs?: number;
  publishDurationMs?: number;
  progress: RunProgress;
  datasets: RunDatasetStats[];
  absent: DatasetId[];
  unknownContainers: string[];
  findings: RunFinding[];
  sourceFormat?: SourceFormat;
  /** Whole key or method groups, with each group's outcome (set once the fetch ended or failed). */
  fetch?: RunFetch;
  /** A whole-key fetch's document: its bytes' sha256 and the reading that made `datasets` of them. */
  document?: DocumentReading;
  error?: RunError;
  rosterStatus?: RunStatus;
  rosterSequence?: number;
  rosterCounts?: Record<string, unknown>;
  heldBatchId?: string;
  /** With `held`: only removals held (the rest applied) or the whole run. */
  holdKind?: 'removals' | 'whole_run';
  /** Per-run sequence of the connector's sync.runs.v1 events. */
  sequence: number;
  /** Replica executing the run, and its last heartbeat. */
  owner?: string;
  heartbeatAt?: Date;
  /** Set just before the run-complete marker is sent: a restart then re-sends it instead of failing. */
  markerAttemptedAt?: Date;
  /**
   * W3C trace context of the request that asked for the run (the admin's gRPC call, or the scheduler's
   * root span), when tracing is on: the run's work, started later by the work queue, continues it.
   */
  trace?: TraceCarrier;
  updatedAt: Date;
}

/** The "one run per school" slot: inserting it is atomic, so two requests can't both win. */
export interface SchoolSlot {
  _id: string;
  tenantId: string;
  syncRunId: string;
  claimedAt: Date;
  /**
   * Set by the replica about to start the run (before `requested → fetching`): the stale-run sweep
   * reads only these slots' runs, never scanning `sync_runs`.
   */
  startedAt?: Date;
}

/** The work queue: one tiny document per `requested` run (`_id` = sync run id). */
export interface QueuedRun {
  _id: string;
  tenantId: string;
  requestedAt: Date;
}

/**
 * The steps of a run the connector decides (each left once): its status, with `fetched` split at the
 * marker attempt (the run stays `fetched`, but after `markerAttemptedAt` a restart re-sends the marker
 * instead of failing the run, so that is a decision of its own).
 */
export type RunStep = 'requested' | 'fetching' | 'fetched' | 'marker-attempted';

/** The step `run` is in, or null when the connector decides nothing more about it. */
export function runStep(run: Pick<RunRecord, 'status' | 'markerAttemptedAt'>): RunStep | null {
  if (run.status === 'requested' || run.status === 'fetching') return run.status;
  if (run.status === 'fetched') return run.markerAttemptedAt ? 'marker-attempted' : 'fetched';
  return null;
}

/** What leaving a step sets on the run (the decided outcome of its step claim). */
export interface RunStepPatch {
  set: Partial<RunRecord>;
  inc?: { sequence: number };
}

/** How a run store claims, records and re-reads one step of a run (see {@link recordRunStep}). */
export interface RunStepIo {
  /** Claims the step for `patch`; `claim.patch` is the decided outcome (this one or an earlier one). */
  claim(step: RunStep, patch: RunStepPatch): Promise<{ won: boolean; claim: { patch: RunStepPatch } }>;
  /** Records the decided outcome, only while the run is still in `step`; null when it is not. */
  apply(step: RunStep, patch: RunStepPatch): Promise<RunRecord | null>;
  /** The run as stored now. */
  reload(): Promise<RunRecord | null>;
}

/**
 * Leaves the run's current step, the rule of every run store's `recordStep`: the step claim decides
 * the outcome once, then the decided outcome is recorded on the run. `won` says whether this call's
 * patch is the decided one; otherwise `run` shows the outcome decided before (adopt it).
 */
export async function recordRunStep(
  run: RunRecord,
  set: Partial<RunRecord>,
  inc: { sequence: number } | undefined,
  io: RunStepIo,
): Promise<{ won: boolean; run: RunRecord | null }> {
  const step = runStep(run);
  if (step === null) return { won: false, run };
  const patch: RunStepPatch = inc === undefined ? { set } : { set, inc };
  const { won, claim } = await io.claim(step, patch);
  // Won means this patch is the decided one (not an earlier decision of the same holder).
  const ours = won && claim.patch === patch;
  // Records the decided outcome (whoever decided it), only while the run is still in that step:
  // a late write never moves a run back.
  const recorded = await io.apply(step, claim.patch);
  return { won: ours, run: recorded ?? (await io.reload()) };
}
