import { syncRunUpdatedV1 } from '@isams-sync/events';
import type { CloudEvent } from '@isams-sync/events';
import type { ConsumerContext } from '@isams-sync/kafka';
import { describe, expect, it } from 'vitest';
import { syncRunsHandler } from '../../../src/handlers/kafka/sync-runs.handler';
import type { SyncEngine } from '../../../src/use-cases/sync-engine';

// connector_sync_runs_finished_total counts a run once when it ends. The connector's own final event
// can arrive twice — Kafka redelivers after a rebalance (at least once), and whoever finds a slot left
// behind announces the end again (the same event) — and each arrival was counted (a CI run saw three
// unchanged runs counted for two: held-batch-decisions.int.test.ts).

/** The connector's own `sync-run.updated` event of run `id` at `status` (step `sequence`). */
function ownEvent(id: string, status: 'unchanged' | 'failed' | 'fetching', sequence: number): CloudEvent {
  return syncRunUpdatedV1.create({
    tenantId: 'school-a',
    syncRunId: id,
    idParts: [id, 'connector', String(sequence)],
    subject: id,
    data: {
      syncRunId: id,
      status,
      reportedBy: 'connector',
      sequence,
      at: new Date('2026-12-07T10:00:00Z').toISOString(),
      trigger: { kind: 'manual' },
      dryRun: false,
      progress: {
        datasetsDone: 14,
        datasetsTotal: 14,
        recordsFetched: 10,
        bytesFetched: 100,
        chunksPublished: 0,
      },
    },
  });
}

describe('syncRunsHandler: a run ended counts once', () => {
  it('the connector’s own final event delivered again (a redelivery, a re-announced end) is not counted again', async () => {
    const ended: string[] = [];
    const handler = syncRunsHandler({} as SyncEngine, undefined, (run) => ended.push(run.status));
    const handle = (event: CloudEvent) => handler(event, {} as ConsumerContext);
    const event = ownEvent('run-1', 'unchanged', 2);
    await handle(event);
    await handle(event);
    await handle(ownEvent('run-1', 'fetching', 1)); // not an end
    await handle(ownEvent('run-2', 'unchanged', 2));
    expect(ended).toEqual(['unchanged', 'unchanged']);
  });
});
