import { datasetSnapshotCompletedV1, rawDatasetChunkV1 } from '@isams-sync/events';
import type { EventHandler } from '@isams-sync/kafka';
import { ids } from '../../use-cases/records';
import type { ChunkStaging } from '../../use-cases/ports';
import type { ChangesetProcessor } from '../../use-cases/changeset-processor';
import type { StagedChunkMemory } from '../../use-cases/process-memory';

/**
 * Consumes `isams.raw-datasets.v1`: stages chunks (idempotent by run/dataset/fingerprint/chunk: a
 * dataset published again in the same run with other content is staged beside the earlier version),
 * and on the run-complete marker processes the run once the chunks of the versions it names are staged. Other event types are ignored.
 * A chunk this call stored is also kept in `chunks` (its run's plan then need not read it back).
 */
export function rawDatasetsHandler(
  store: ChunkStaging,
  processor: ChangesetProcessor,
  now: () => Date,
  /** Runs processing in the background: the marker is durable once stored, and a crash resumes it. */
  background: (work: Promise<void>) => void,
  chunks?: StagedChunkMemory,
): EventHandler {
  return async (event, ctx) => {
    if (rawDatasetChunkV1.matches(event)) {
      const { data, tenantid } = rawDatasetChunkV1.parse(event);
      const chunk = {
        _id: ids.chunk(tenantid, data.syncRunId, data.datasetId, data.datasetFingerprint, data.chunkIndex),
        tenantId: tenantid,
        syncRunId: data.syncRunId,
        datasetId: data.datasetId,
        chunkIndex: data.chunkIndex,
        chunkCount: data.chunkCount,
        fingerprint: data.datasetFingerprint,
        records: data.records,
        receivedAt: now(),
      };
      if (await store.stageChunk(chunk)) chunks?.remember(chunk, ctx.bytes);
      background(processor.onChunkStaged(tenantid, data.syncRunId));
      return;
    }
    if (datasetSnapshotCompletedV1.matches(event)) {
      const { data, tenantid } = datasetSnapshotCompletedV1.parse(event);
      ctx.logger.info(
        { syncRunId: data.syncRunId, datasets: data.datasets.length, dryRun: data.dryRun },
        'run-complete marker received',
      );
      await processor.registerMarker(tenantid, data.syncRunId, {
        trigger: data.trigger,
        dryRun: data.dryRun,
        fetchedAt: data.fetchedAt,
        datasets: data.datasets.map((d) => ({
          datasetId: d.datasetId,
          chunkCount: d.chunkCount,
          recordCount: d.recordCount,
          fingerprint: d.fingerprint,
        })),
        absentDatasets: data.absentDatasets,
        findings: data.findings.map((f) => ({
          code: f.code,
          severity: 'warning' as const,
          datasetId: f.datasetId,
          ...(f.recordId === undefined ? {} : { recordId: f.recordId }),
          ...(f.path === undefined ? {} : { field: f.path }),
          message: f.message,
        })),
      });
      background(processor.advance(tenantid, ids.changeset(tenantid, data.syncRunId)));
    }
  };
}
