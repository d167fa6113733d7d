import { datasetSnapshotCompletedV1, rawDatasetChunkV1 } from '@isams-sync/events';
import type { CloudEvent } from '@isams-sync/events';
import type { BatchEventHandler, EventHandler } from '@isams-sync/kafka';
import type { Logger } from '@isams-sync/logger';
import { forEachConcurrently } from '@isams-sync/runtime';
import { ids } from '../../use-cases/records';
import type { ChunkStaging } from '../../use-cases/ports';
import type { ChangesetProcessor } from '../../use-cases/changeset-processor';
import type { StagedChunkMemory } from '../../use-cases/process-memory';

/** Chunks of one fetched batch staged at once (each a chunk and a receipt written). */
export const CHUNKS_STAGED_IN_FLIGHT = 4;

/** What the handlers of `isams.raw-datasets.v1` work with. */
export interface RawDatasetsDeps {
  readonly store: ChunkStaging;
  readonly processor: ChangesetProcessor;
  readonly now: () => Date;
  /** Runs processing in the background: the marker is durable once stored, and a crash resumes it. */
  readonly background: (work: Promise<void>) => void;
  /** Where a chunk this replica stored is kept for its run's plan (none: the plan reads the store). */
  readonly chunks?: StagedChunkMemory;
}

/**
 * Consumes `isams.raw-datasets.v1`: stages chunks (idempotent by run/dataset/fingerprint/chunk: a
 * dataset published again in the same run with other content is staged beside the earlier version),
 * and on the run-complete marker processes the run once the chunks of the versions it names are
 * staged. Other event types are ignored. A chunk a call stored is also kept in `chunks` (its run's
 * plan then need not read it back).
 *
 * `handler` takes one event. `batchHandler` takes the consecutive events of one fetched batch: the
 * chunks between two other events are staged {@link CHUNKS_STAGED_IN_FLIGHT} at a time (independent
 * writes), then each run they belong to is told to the processor once; any other event (the marker)
 * is handled once every event before it is — as one at a time would, and each in its own event's
 * trace, not the batch's. A failure fails the batch after the chunks being staged settle (the runner
 * retries it — staging is idempotent — or splits it down to `handler`).
 */
export function rawDatasetsHandlers(deps: RawDatasetsDeps): {
  handler: EventHandler;
  batchHandler: BatchEventHandler;
} {
  const handler: EventHandler = async (event, ctx) => {
    const run = await stage(deps, event, ctx.bytes);
    if (run) deps.background(deps.processor.onChunkStaged(run.tenantId, run.syncRunId));
    else await onOther(deps, event, ctx.logger);
  };
  const batchHandler: BatchEventHandler = async (events, ctx) => {
    let pending: number[] = [];
    const stagePending = async () => {
      const part = pending;
      pending = [];
      const runs: Array<RunRef | null> = [];
      await forEachConcurrently(part, CHUNKS_STAGED_IN_FLIGHT, async (i) => {
        runs[i] = await stage(deps, events[i]!, ctx.sizes[i] ?? 0);
      });
      // Each run once, in the trace of its last chunk here, before any later event of the batch.
      const last = new Map<string, { run: RunRef; event: CloudEvent<unknown> }>();
      for (const i of part)
        last.set(`${runs[i]!.tenantId}|${runs[i]!.syncRunId}`, { run: runs[i]!, event: events[i]! });
      for (const { run, event } of last.values())
        await ctx.inEventTrace(event, async () =>
          deps.background(deps.processor.onChunkStaged(run.tenantId, run.syncRunId)),
        );
    };
    for (const [i, event] of events.entries()) {
      if (rawDatasetChunkV1.matches(event)) {
        pending.push(i);
        continue;
      }
      await stagePending();
      await ctx.inEventTrace(event, () => onOther(deps, event, ctx.logger));
    }
    await stagePending();
  };
  return { handler, batchHandler };
}

/** The run a chunk belongs to. */
interface RunRef {
  tenantId: string;
  syncRunId: string;
}

/** Stages `event` if it is a chunk; returns its run, or null for any other event. */
async function stage(
  { store, now, chunks }: RawDatasetsDeps,
  event: CloudEvent<unknown>,
  bytes: number,
): Promise<RunRef | null> {
  if (!rawDatasetChunkV1.matches(event)) return null;
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
  if (await store.stageChunk(chunk)) chunks?.remember(chunk, bytes);
  return { tenantId: tenantid, syncRunId: data.syncRunId };
}

/** The run-complete marker is registered and its changeset advanced; other events are ignored. */
async function onOther(
  { processor, background }: RawDatasetsDeps,
  event: CloudEvent<unknown>,
  logger: Logger,
): Promise<void> {
  if (!datasetSnapshotCompletedV1.matches(event)) return;
  const { data, tenantid } = datasetSnapshotCompletedV1.parse(event);
  logger.info(
    { syncRunId: data.syncRunId, datasets: data.datasets.length, dryRun: data.dryRun },
    'run-complete marker received',
  );
  await processor.registerMarker(tenantid, data.syncRunId, {
    trigger: data.trigger,
    dryRun: data.dryRun,
    fetchedAt: data.fetchedAt,
    ...(data.fetchSequence === undefined ? {} : { fetchSequence: data.fetchSequence }),
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
