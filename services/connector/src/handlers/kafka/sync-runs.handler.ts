import { syncRunUpdatedV1 } from '@isams-sync/events';
import type { EventHandler } from '@isams-sync/kafka';
import type { SyncEngine } from '../../use-cases/sync-engine';

/**
 * Consumes sync.runs.v1 for the roster's reports (applying/applied/held/failed) so runs show the
 * final outcome and the fingerprints of applied snapshots are remembered. The connector's own
 * events on the topic are skipped. Idempotent: a report is applied once per (run, sequence).
 */
export function syncRunsHandler(engine: SyncEngine): EventHandler {
  return async (raw) => {
    if (!syncRunUpdatedV1.matches(raw)) return;
    const event = syncRunUpdatedV1.parse(raw);
    const d = event.data;
    if (d.reportedBy !== 'roster') return;
    await engine.applyRosterReport({
      tenantId: event.tenantid,
      syncRunId: d.syncRunId,
      status: d.status,
      sequence: d.sequence,
      ...(d.counts ? { counts: d.counts } : {}),
      ...(d.heldBatchId ? { heldBatchId: d.heldBatchId } : {}),
      ...(d.error ? { error: d.error } : {}),
    });
  };
}
