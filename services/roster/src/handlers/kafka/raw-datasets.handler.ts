import { datasetSnapshotCompletedV1, rawDatasetChunkV1 } from '@isams-sync/events';
import type { CloudEvent } from '@isams-sync/events';
import type { BatchEventHandler, EventHandler } from '@isams-sync/kafka';
import type { Logger } from '@isams-sync/logger';
import { forEachConcurrently } from '@isams-sync/runtime';
import { contextFromCarrier, SpanKind, withSpan } from '@isams-sync/telemetry';
import { ids } from '../../use-cases/records';
import type { ChunkStaging } from '../../use-cases/ports';
import type { ChangesetProcessor } from '../../use-cases/changeset-processor';
import type { StagedChunkMemory } from '../../use-cases/process-memory';

/** Chunks of one fetched batch staged at once (each a chunk and a receipt written). */
export const CHUNKS_STAGED_IN_FLIGHT = 4;

/** What both handlers of `isams.raw-datasets.v1` are made of. */
interface RawDatasetsDeps {
  readonly store: ChunkStaging;
  readonly processor: ChangesetProcessor;
  readonly now: () => Date;
  /** Runs processing in the background: the marker is durable once stored, and a crash resumes it. */
  readonly background: (work: Promise<void>) => void;
  /** Where a chunk this replica stored is kept for its run's plan. */
  readonly chunks: StagedChunkMemory | undefined;
}

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
  background: (work: Promise<void>) => void,
  chunks?: StagedChunkMemory,
): EventHandler {
  const deps: RawDatasetsDeps = { store, processor, now, background, chunks };
  return async (event, ctx) => {
    const staged = await stage(deps, event, ctx.bytes);
    if (staged) background(processor.onChunkStaged(staged.tenantId, staged.syncRunId));
    else await onOther(deps, event, ctx.logger);
  };
}

/**
 * {@link rawDatasetsHandler} for the consecutive events of one fetched batch: the chunks between two
 * other events are staged {@link CHUNKS_STAGED_IN_FLIGHT} at a time (they are independent writes);
 * any other event (the marker) is handled once every event before it is, as one at a time would; each
 * run's staged chunks are told to the processor once. A failure fails the batch after the chunks
 * being staged settle (the runner retries it — staging is idempotent — or splits it down to the
 * per-event handler).
 */
export function rawDatasetsBatchHandler(
  store: ChunkStaging,
  processor: ChangesetProcessor,
  now: () => Date,
  background: (work: Promise<void>) => void,
  chunks?: StagedChunkMemory,
): BatchEventHandler {
  const deps: RawDatasetsDeps = { store, processor, now, background, chunks };
  return async (events, ctx) => {
    let pending: number[] = [];
    const stagePending = async () => {
      const part = pending;
      pending = [];
      // Each run's last chunk staged here, in order: the run is told once, in that chunk's trace.
      const runs = new Map<string, { tenantId: string; syncRunId: string; event: CloudEvent<unknown> }>();
      const staged = new Map<number, { tenantId: string; syncRunId: string }>();
      await forEachConcurrently(part, CHUNKS_STAGED_IN_FLIGHT, async (i) => {
        const run = await stage(deps, events[i]!, ctx.sizes[i] ?? 0);
        if (run) staged.set(i, run);
      });
      for (const i of part) {
        const run = staged.get(i)!;
        runs.set(`${run.tenantId}|${run.syncRunId}`, { ...run, event: events[i]! });
      }
      // Before any later event, as one at a time would: a marker after these chunks then finds them
      // told, and never races their run's processing started from here.
      for (const r of runs.values())
        await inTraceOf(r.event, ctx.topic, () =>
          background(processor.onChunkStaged(r.tenantId, r.syncRunId)),
        );
    };
    for (let i = 0; i < events.length; i += 1) {
      if (rawDatasetChunkV1.matches(events[i]!)) {
        pending.push(i);
        continue;
      }
      await stagePending();
      // The run's processing starts from the marker, in the marker's trace (the sync's), not the batch's.
      await inTraceOf(events[i]!, ctx.topic, () => onOther(deps, events[i]!, ctx.logger));
    }
    await stagePending();
  };
}

/**
 * Runs `fn` in a CONSUMER span continuing `event`'s own trace — what the runner does for one event
 * at a time; a batch's span starts a trace of its own, and the work a sync's events start belongs in
 * the sync's trace (docs/observability.md).
 */
function inTraceOf<T>(event: CloudEvent<unknown>, topic: string, fn: () => T | Promise<T>): Promise<T> {
  return withSpan(
    `process ${topic}`,
    {
      kind: SpanKind.CONSUMER,
      parent: contextFromCarrier(event),
      attributes: {
        'cloudevents.event_id': event.id,
        'cloudevents.event_type': event.type,
        'isams_sync.tenant_id': event.tenantid,
      },
    },
    async () => fn(),
  );
}

/** Stages `event` if it is a chunk; returns its run, or null for any other event. */
async function stage(
  { store, now, chunks }: RawDatasetsDeps,
  event: CloudEvent<unknown>,
  bytes: number,
): Promise<{ tenantId: string; syncRunId: string } | null> {
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
