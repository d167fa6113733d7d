import { datasetSnapshotCompletedV1, rawDatasetChunkV1, syncRunUpdatedV1 } from '@isams-sync/events';
import { DATASET_IDS } from '@isams-sync/isams';
import { toKafkaMessage } from '@isams-sync/kafka';
import type { EventProducer, RawRecord } from '@isams-sync/kafka';
import { SpanKind, startSpan, withContext } from '@isams-sync/telemetry';
import type { Span } from '@isams-sync/telemetry';
import type { RunRecord } from '../../domain/run-record';
import type { RunDatasetStats } from '../../domain/sync-run';
import type { RunPublisher, Spool } from '../../use-cases/ports';

export interface RunPublisherTopics {
  rawDatasets: string;
  syncRuns: string;
}

/** Chunks published per produce call (each chunk is at most MAX_CHUNK_BYTES). */
const CHUNKS_PER_SEND = 4;
const EMPTY_RECORDS_TAIL = '"records":[]}';
const RECORDS_END = Buffer.from(']}');
const NEWLINE = 0x0a;
const COMMA = 0x2c;

/**
 * A chunk event's value (its `records` empty, the last field) with the spooled lines as its records:
 * the lines' bytes spliced in as they are, each line's newline turned into the comma between
 * records (a canonical JSON line has no raw newline inside it; JSON escapes them) — never decoded,
 * parsed or encoded again. Changes `lines`.
 */
export function withRecords(emptyValue: string, lines: Buffer): string | Buffer {
  if (lines.length === 0) return emptyValue;
  for (let at = lines.indexOf(NEWLINE); at !== -1; at = lines.indexOf(NEWLINE, at + 1)) lines[at] = COMMA;
  // `…"records":[` + the records + `]}`; the last line's newline (now a comma) left out.
  return Buffer.concat([Buffer.from(emptyValue.slice(0, -2)), lines.subarray(0, -1), RECORDS_END]);
}

/** The marker's data for a fetched run (stored so a restarted connector re-sends the same marker). */
export function markerData(run: RunRecord) {
  return {
    syncRunId: run._id,
    trigger: run.trigger.actor
      ? { kind: run.trigger.kind, actor: run.trigger.actor }
      : { kind: run.trigger.kind },
    dryRun: run.dryRun,
    fetchedAt: (run.fetchedAt ?? run.updatedAt).toISOString(),
    ...(run.fetchSequence === undefined ? {} : { fetchSequence: run.fetchSequence }),
    sourceFormat: run.sourceFormat ?? 'xml',
    datasets: run.datasets.map((d) => ({
      datasetId: d.datasetId,
      chunkCount: d.chunkCount,
      recordCount: d.recordCount,
      fingerprint: d.fingerprint,
      bytes: d.bytes,
    })),
    absentDatasets: run.absent,
    unknownContainers: run.unknownContainers,
    findings: run.findings.slice(0, 1000),
  };
}

/** The per-type change counts a `sync.run.updated.v1` event carries. */
type RunUpdateCounts = NonNullable<Parameters<typeof syncRunUpdatedV1.create>[0]['data']['counts']>;

/** Publishes a run's chunks, its run-complete marker and its lifecycle events. */
export class KafkaRunPublisher implements RunPublisher {
  constructor(
    private readonly producer: EventProducer,
    private readonly topics: RunPublisherTopics,
  ) {}

  /** The lifecycle event of the run's current state (id from run, reporter and sequence). */
  async publishRunUpdate(run: RunRecord): Promise<void> {
    const event = syncRunUpdatedV1.create({
      tenantId: run.tenantId,
      syncRunId: run._id,
      idParts: [run._id, 'connector', String(run.sequence)],
      subject: run._id,
      time: run.updatedAt,
      data: {
        syncRunId: run._id,
        status: run.status,
        reportedBy: 'connector',
        sequence: run.sequence,
        at: run.updatedAt.toISOString(),
        trigger: run.trigger.actor
          ? { kind: run.trigger.kind, actor: run.trigger.actor }
          : { kind: run.trigger.kind },
        dryRun: run.dryRun,
        progress: {
          datasetsDone: run.progress.datasetsDone,
          datasetsTotal: run.progress.datasetsTotal,
          recordsFetched: run.progress.recordsFetched,
          bytesFetched: run.progress.bytesFetched,
          chunksPublished: run.progress.chunksPublished,
        },
        ...(run.datasets.length > 0 || run.absent.length > 0
          ? {
              datasets: [
                ...run.datasets.map((d) => ({
                  datasetId: d.datasetId,
                  present: true,
                  recordCount: d.recordCount,
                  bytes: d.bytes,
                })),
                ...run.absent.map((datasetId) => ({ datasetId, present: false, recordCount: 0, bytes: 0 })),
              ],
            }
          : {}),
        ...(run.error ? { error: run.error } : {}),
        // A run that took the roster's report at its `published` step (the report came first)
        // carries what the report said; the roster's counts passed this schema when they came.
        ...(run.rosterCounts ? { counts: run.rosterCounts as RunUpdateCounts } : {}),
        ...(run.heldBatchId ? { heldBatchId: run.heldBatchId } : {}),
        ...(run.holdKind ? { holdKind: run.holdKind } : {}),
      },
    });
    await this.producer.publish(this.topics.syncRuns, [event]);
  }

  /**
   * Publishes every chunk of `datasets` (catalogue order), reading the spool. The chunk event is
   * built (and its envelope validated) with an empty record list, then the spooled canonical JSON
   * lines are spliced in, so records are never parsed and re-serialized. A chunk's id names its
   * dataset's fingerprint: a dataset published again in the same run with other records (read while
   * the document was still being read, then changed) gets other ids.
   *
   * The next batch is read from the spool and built while the current one is produced (one batch
   * ahead, so memory stays at two batches): reading the disk overlaps the broker's round trips.
   * Batches are still sent one after the other, in order, each acknowledged before the next.
   */
  async publishChunks(
    run: RunRecord,
    datasets: readonly RunDatasetStats[],
    spool: Spool,
    onPublished: (chunks: readonly RunDatasetStats[]) => void | Promise<void>,
    opts: { prefix?: boolean } = {},
  ): Promise<void> {
    const batches = this.chunkBatches(run, datasets, spool, opts);
    let next = batches.next();
    try {
      for (;;) {
        const current = await next;
        if (current.done === true) return;
        next = batches.next();
        // Settled below if the send fails; never left as an unhandled rejection meanwhile.
        next.catch(() => undefined);
        const { messages, spans, of } = current.value;
        try {
          await this.producer.publishRaw(this.topics.rawDatasets, messages);
        } finally {
          for (const span of spans) span.end();
        }
        await onPublished(of);
      }
    } finally {
      await next.catch(() => undefined);
      await batches.return(undefined);
    }
  }

  /**
   * The datasets' chunk messages, {@link CHUNKS_PER_SEND} at a time, read from the spool, with the
   * dataset of each (`of`).
   */
  private async *chunkBatches(
    run: RunRecord,
    datasets: readonly RunDatasetStats[],
    spool: Spool,
    opts: { prefix?: boolean },
  ): AsyncGenerator<{ messages: RawRecord[]; spans: Span[]; of: RunDatasetStats[] }, void, undefined> {
    // The fetch's time; chunks published while the document is still being read carry its start.
    const time = run.fetchedAt ?? run.fetchStartedAt ?? run.updatedAt;
    let batch: RawRecord[] = [];
    let of: RunDatasetStats[] = [];
    // One PRODUCER span per chunk, whose context the chunk carries; ended once its batch is acknowledged.
    let spans: Span[] = [];
    const order = new Map(DATASET_IDS.map((d, i) => [d, i]));
    const sorted = [...datasets].sort((a, b) => order.get(a.datasetId)! - order.get(b.datasetId)!);
    for (const ds of sorted) {
      let chunkIndex = 0;
      let ordinal = 0;
      for await (const lines of spool.chunks(ds.datasetId, ds.chunkRecords, opts)) {
        const event = rawDatasetChunkV1.create({
          tenantId: run.tenantId,
          syncRunId: run._id,
          idParts: [run._id, ds.datasetId, ds.fingerprint, String(chunkIndex)],
          subject: ds.datasetId,
          time,
          data: {
            syncRunId: run._id,
            datasetId: ds.datasetId,
            chunkIndex,
            chunkCount: ds.chunkCount,
            firstRecordOrdinal: ordinal,
            datasetFingerprint: ds.fingerprint,
            records: [],
          },
        });
        const chunk = startSpan(`publish ${this.topics.rawDatasets}`, {
          kind: SpanKind.PRODUCER,
          attributes: {
            'messaging.system': 'kafka',
            'messaging.operation.type': 'send',
            'messaging.destination.name': this.topics.rawDatasets,
            'isams_sync.dataset_id': ds.datasetId,
            'isams_sync.chunk_index': chunkIndex,
            'isams_sync.chunk_count': ds.chunkCount,
          },
        });
        spans.push(chunk.span);
        const msg = withContext(chunk.context, () => toKafkaMessage(event));
        if (!msg.value.endsWith(EMPTY_RECORDS_TAIL))
          throw new Error('chunk event layout changed: records must be the last field');
        batch.push({ ...msg, value: withRecords(msg.value, lines) });
        of.push(ds);
        if (batch.length >= CHUNKS_PER_SEND) {
          yield { messages: batch, spans, of };
          batch = [];
          spans = [];
          of = [];
        }
        ordinal += ds.chunkRecords[chunkIndex]!;
        chunkIndex += 1;
      }
    }
    if (batch.length > 0) yield { messages: batch, spans, of };
  }

  /** The commit point: after this the roster may apply the snapshot. */
  async publishMarker(run: RunRecord): Promise<void> {
    const event = datasetSnapshotCompletedV1.create({
      tenantId: run.tenantId,
      syncRunId: run._id,
      idParts: [run._id, 'completed'],
      subject: run._id,
      time: run.fetchedAt ?? run.updatedAt,
      data: markerData(run),
    });
    await this.producer.publish(this.topics.rawDatasets, [event]);
  }
}
