import { syncRunUpdatedV1 } from '@isams-sync/events';
import { HELD_BATCH_DECISION_SEQUENCE, isTerminal } from '../../domain/sync-run';
import type { EventHandler } from '@isams-sync/kafka';
import type { Notifier } from '../../use-cases/notifier';
import type { SyncEngine } from '../../use-cases/sync-engine';

/**
 * Consumes sync.runs.v1 for the roster's reports (applying/applied/held/failed, and discarded or
 * superseded once the run's held batch is decided) so runs show the final outcome and the fingerprints of applied snapshots are
 * remembered. Idempotent: a report is applied once per (run, sequence). With a notifier, a held run
 * (roster) and a failed run (roster or the connector's own event) are then checked for e-mails; the
 * notifier's claims keep a redelivered event from sending twice.
 *
 * `onRunEnded` is told once per run that reached a final status (applied, unchanged, held, failed,
 * cancelled), for the `connector_sync_runs_finished_total` metric: a roster report when it changed
 * the run (a repeated report does not count), the connector's own final event as it arrives. An
 * admin's decision on a held batch (the roster's sequence 3: `applied` once approved, `discarded`,
 * or `superseded` when a later run left nothing of it to decide) is not another end: its runs were
 * counted when they ended held — a run whose `held` report comes after the decision too (counted
 * held, then decided at once).
 */
export function syncRunsHandler(
  engine: SyncEngine,
  notifier?: Notifier,
  onRunEnded?: (run: { status: string; errorCode: string | undefined }) => void,
): EventHandler {
  const counted = new RecentlyCounted(COUNTED_ENDS_KEPT);
  return async (raw) => {
    if (!syncRunUpdatedV1.matches(raw)) return;
    const event = syncRunUpdatedV1.parse(raw);
    const d = event.data;
    let changed = d.reportedBy !== 'roster';
    if (d.reportedBy === 'roster') {
      const { syncRunId, status, sequence, counts, heldBatchId, holdKind, error } = d;
      changed = await engine.applyRosterReport({
        tenantId: event.tenantid,
        syncRunId,
        status,
        sequence,
        counts,
        heldBatchId,
        holdKind,
        error,
      });
    }
    const decision = d.reportedBy === 'roster' && d.sequence === HELD_BATCH_DECISION_SEQUENCE;
    // The connector's own final event may arrive twice (a redelivery; an end announced again by
    // whoever frees a slot left behind): an end this process counted is not counted again.
    if (
      changed &&
      isTerminal(d.status) &&
      !decision &&
      counted.add(`${event.tenantid}|${d.syncRunId}|${d.status}`)
    )
      onRunEnded?.({ status: d.status, errorCode: d.error?.code });
    const told = d.status === 'failed' || (d.status === 'held' && d.reportedBy === 'roster');
    if (notifier !== undefined && told && !d.dryRun) await notifier.runEnded(event.tenantid, d.syncRunId);
  };
}

/**
 * Run ends counted by this process, the newest {@link COUNTED_ENDS_KEPT}: far more than the runs
 * that end between a delivery and its redelivery. Per process, so a redelivery to another replica
 * after a rebalance can still count an end twice (the metric is a rate, not a ledger).
 */
const COUNTED_ENDS_KEPT = 10_000;

class RecentlyCounted {
  private readonly keys = new Set<string>();
  constructor(private readonly max: number) {}

  /** True when `key` was not counted yet (it is now). */
  add(key: string): boolean {
    if (this.keys.has(key)) return false;
    this.keys.add(key);
    if (this.keys.size > this.max) this.keys.delete(this.keys.values().next().value!);
    return true;
  }
}
