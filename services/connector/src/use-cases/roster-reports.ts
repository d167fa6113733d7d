import { freshnessMoveOf } from '../domain/data-freshness';
import { ConnectorErrors } from '../domain/connector-errors';
import { runStep } from '../domain/run-record';
import type { RunRecord } from '../domain/run-record';
import {
  appliedSnapshotOf,
  fetchedAfter,
  heldBatchDecisionOf,
  isTerminal,
  takesRosterReport,
} from '../domain/sync-run';
import type { HeldBatchDecision, RunError, RunStatus } from '../domain/sync-run';
import type { AppliedSnapshotStore, FreshnessStore, RunStore } from './ports';

/** A roster report from sync.runs.v1. */
export interface RosterReport {
  tenantId: string;
  syncRunId: string;
  status: RunStatus;
  sequence: number;
  counts?: Record<string, unknown>;
  heldBatchId?: string;
  holdKind?: 'removals' | 'whole_run';
  error?: RunError;
}

/** The ports a roster report touches. */
export interface RosterReportDeps {
  runs: RunStore;
  freshness: FreshnessStore;
  snapshots: AppliedSnapshotStore;
}

/**
 * Applies a roster report (applying/applied/held/failed/discarded/superseded). Resolves to true when
 * this call applied it; false for an unknown run, an old or repeated report (a repeat of the run's newest report moves
 * on again what it moves on, in case the process that took it stopped first), or a run the roster
 * cannot have had a marker of.
 *
 * The roster can answer the marker before the connector has recorded `published` (the step is
 * written once the marker's send is acknowledged). Such a report is kept (`RunStore.
 * recordRosterReport`), and the step that records `published` applies it; this call then fails with
 * the transient `CONNECTOR_REPORT_BEFORE_PUBLISHED`, so the event is handled again (the consumer
 * backs off) and finds the report taken — or takes it itself, if the connector stopped between the
 * step's write and taking the reports. A holder that stopped before the step is replaced by the
 * stale-run sweep, which re-sends the marker and records the step. The event is handled again only
 * for `patienceMs` after the marker attempt (the sweep should have recorded the step by then): past
 * it the report stays kept for the step, and its event is let go, so a run nobody recovers cannot
 * hold up the other schools' reports on its partition.
 */
export async function applyRosterReport(
  deps: RosterReportDeps,
  report: RosterReport,
  patienceMs: number,
): Promise<boolean> {
  const run = await deps.runs.get(report.tenantId, report.syncRunId);
  if (!run) return false;
  if ((run.rosterSequence ?? -1) >= report.sequence) {
    // Taken already — by the `published` step, or by a handling that stopped before moving on
    // what the report moves on: that is idempotent, so done again.
    if (run.rosterSequence === report.sequence) await rosterReportTaken(deps, run);
    return false;
  }
  const markerOut = runStep(run) === 'marker-attempted';
  // Ended by the connector itself (unchanged, cancelled), or not yet at its marker: the roster has
  // no marker of it, and nothing it says changes the run.
  if (!markerOut && !takesRosterReport(run, report.sequence)) return false;
  const updated = await deps.runs.recordRosterReport(run.tenantId, run._id, report.sequence, {
    status: report.status,
    rosterStatus: report.status,
    rosterSequence: report.sequence,
    ...(report.counts ? { rosterCounts: report.counts } : {}),
    ...(report.heldBatchId ? { heldBatchId: report.heldBatchId } : {}),
    ...(report.holdKind ? { holdKind: report.holdKind } : {}),
    ...(report.error ? { error: report.error } : {}),
    ...(isTerminal(report.status) ? { finishedAt: new Date() } : {}),
  });
  if (markerOut && updated !== null && runStep(updated) === 'marker-attempted') {
    const waited = Date.now() - (updated.markerAttemptedAt?.getTime() ?? 0);
    if (waited > patienceMs) return false;
    throw ConnectorErrors.CONNECTOR_REPORT_BEFORE_PUBLISHED({ syncRunId: run._id });
  }
  if (updated?.rosterSequence !== report.sequence) return false;
  await rosterReportTaken(deps, updated);
  return true;
}

/**
 * What a run that took a roster report moves on: the school's data-as-of time (an applied run, or a
 * held one: its additions and updates were applied) and, for an applied run, the applied snapshot
 * the next run is compared with. A decision on the run's held batch (approved: `applied`,
 * `discarded`, or `superseded`) first ends the school's other runs still held on that batch the same
 * way: they are decided with it. So does a `held` report on a batch already decided (reports of
 * different runs come in any order: the decision's can come first): the run ends as decided at once.
 * An approval applied the version the admin saw, which holds the held changes of the newest run held
 * on the batch (each run that held some made them the batch's next version), so SchoolCloud is then
 * as of that run's document: its data-as-of time and snapshot are the ones moved on (neither goes
 * back over a newer one). Idempotent: called again for the same run — or for any run on the batch —
 * it changes nothing, and finishes what a stopped call left.
 */
export async function rosterReportTaken(deps: RosterReportDeps, run: RunRecord): Promise<void> {
  const decision = heldBatchDecisionOf(run) ?? (await decidedBefore(deps, run));
  const decided =
    decision === undefined ? [] : await deps.runs.decideHeldRuns(run.tenantId, run.heldBatchId!, decision);
  // The runs as decided first: a run that took its `held` report after the decision is among them.
  const latest = decision === 'applied' ? newestFetched([...decided, run]) : run;
  const freshness = freshnessMoveOf(latest);
  if (freshness) await deps.freshness.advance(run.tenantId, freshness);
  if (latest.status === 'applied' && !latest.dryRun)
    await deps.snapshots.put(run.tenantId, appliedSnapshotOf(latest), new Date());
}

/** The decision of the batch a real run took its `held` report on, when the batch was decided before. */
async function decidedBefore(deps: RosterReportDeps, run: RunRecord): Promise<HeldBatchDecision | undefined> {
  if (run.status !== 'held' || run.dryRun || run.heldBatchId === undefined) return undefined;
  return deps.runs.heldBatchDecision(run.tenantId, run.heldBatchId);
}

/** The run fetched last (domain/sync-run `fetchedAfter`; the first of `runs` when none is newer). */
function newestFetched(runs: readonly [RunRecord, ...RunRecord[]] | [...RunRecord[], RunRecord]): RunRecord {
  return runs.reduce((newest, r) => (fetchedAfter(r, newest) ? r : newest));
}
