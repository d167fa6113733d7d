import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import type { BodyDigest, DatasetId, KnownBodyEvent } from '@isams-sync/isams';
import { ChunkPlanner } from '../../domain/chunk-plan';
import type { RunDatasetStats } from '../../domain/sync-run';
import type { RunFinding } from '../../domain/run-record';
import type { Spool } from '../../use-cases/ports';
import type { LineEvent } from './line-events';

const MAX_FINDINGS = 1000;

interface DatasetAcc {
  hash: Hash;
  records: number;
  bytes: number;
  planner: ChunkPlanner;
  done: boolean;
}

/** Counters for progress reports. */
export interface AccumulatedProgress {
  datasetsDone: number;
  recordsFetched: number;
  bytesFetched: number;
}

/**
 * Collects the records of one run's documents (one for a whole-key fetch, one per method group
 * otherwise) into the spool as canonical JSON, with each dataset's sha256 fingerprint, byte count
 * and chunk plan. A dataset's fingerprint covers its records in document order only, so the same
 * data gives the same fingerprint whether it came in the whole document or in a group's.
 */
export class DocumentAccumulator {
  private readonly datasets = new Map<DatasetId, DatasetAcc>();
  private readonly foundFindings: RunFinding[] = [];
  private readonly unknown = new Set<string>();
  /** Bytes of the documents read completely, and of the one being read. */
  private bytesDone = 0;
  private bytesCurrent = 0;
  /** Whether the last {@link consume} handed out any event before it failed. */
  yielded = false;

  constructor(
    private readonly spool: Spool | undefined,
    private readonly maxChunkRecordBytes: number,
    private readonly onProgress: (p: AccumulatedProgress) => void = () => undefined,
    /**
     * Told each time a kept dataset's container ends, with the dataset as read so far (its records
     * are in the spool): what may be published while the document is still being read. Not final:
     * a later container of the same dataset adds records, a failed request discards them.
     */
    private readonly onDatasetRead?: (dataset: RunDatasetStats) => void,
  ) {}

  /** Called with the current document's byte count as it downloads. */
  readonly onBytes = (bytes: number): void => {
    this.bytesCurrent = bytes;
  };

  progress(): AccumulatedProgress {
    let datasetsDone = 0;
    let recordsFetched = 0;
    for (const a of this.datasets.values()) {
      if (a.done) datasetsDone += 1;
      recordsFetched += a.records;
    }
    return { datasetsDone, recordsFetched, bytesFetched: this.bytesDone + this.bytesCurrent };
  }

  /**
   * Reads one document to its end (its events in batches, records as canonical JSON lines). Only
   * datasets in `wanted` are kept (all when undefined); returns the canonical datasets whose
   * container the document did not have, or — when the stream stopped on a body its caller knows
   * (`known-body`) — that body's digest (what was collected is then of no use). Throws whatever the
   * stream throws (the caller then discards what this document added).
   */
  async consume(
    batches: AsyncIterable<readonly (LineEvent | KnownBodyEvent)[]>,
    wanted?: ReadonlySet<DatasetId>,
  ): Promise<{ absent: DatasetId[] } | { known: BodyDigest }> {
    this.yielded = false;
    this.bytesCurrent = 0;
    const keep = (d: DatasetId | undefined): d is DatasetId => d !== undefined && (!wanted || wanted.has(d));
    for await (const batch of batches) {
      this.yielded = true;
      for (const ev of batch) {
        switch (ev.type) {
          case 'dataset':
            if (keep(ev.datasetId) && !this.datasets.has(ev.datasetId)) {
              this.datasets.set(ev.datasetId, {
                hash: createHash('sha256'),
                records: 0,
                bytes: 0,
                planner: new ChunkPlanner(this.maxChunkRecordBytes),
                done: false,
              });
              await this.spool?.touch(ev.datasetId);
            }
            break;
          case 'records': {
            const a = keep(ev.datasetId) ? this.datasets.get(ev.datasetId) : undefined;
            if (!a) break;
            const before = a.records;
            let bytes = 0;
            for (const size of ev.sizes) {
              a.planner.add(size);
              bytes += size;
            }
            a.hash.update(ev.lines);
            a.records += ev.sizes.length;
            a.bytes += bytes;
            if (this.spool) await this.spool.appendLines(ev.datasetId, ev.lines);
            if (before >> 10 !== a.records >> 10) this.onProgress(this.progress());
            break;
          }
          case 'dataset-end': {
            const a = keep(ev.datasetId) ? this.datasets.get(ev.datasetId) : undefined;
            if (a) {
              a.done = true;
              // A copy of the hash: the dataset's fingerprint so far, while its own hash goes on.
              this.onDatasetRead?.(
                statsOf(ev.datasetId, a, a.planner.planSoFar(), a.hash.copy().digest('hex')),
              );
            }
            this.onProgress(this.progress());
            break;
          }
          case 'finding': {
            const f = ev.finding;
            if (keep(f.datasetId) && this.foundFindings.length < MAX_FINDINGS) {
              this.foundFindings.push({
                code: f.code,
                datasetId: f.datasetId,
                ...(f.recordId !== undefined ? { recordId: f.recordId } : {}),
                ...(f.path !== undefined ? { path: f.path } : {}),
                message: f.message,
              });
            }
            break;
          }
          case 'end':
            await this.spool?.close();
            ev.unknownContainers.forEach((c) => this.unknown.add(c));
            this.bytesDone += ev.bytes;
            this.bytesCurrent = 0;
            this.onProgress(this.progress());
            return { absent: ev.absent };
          case 'known-body':
            this.bytesCurrent = 0;
            return { known: { sha256: ev.sha256, bytes: ev.bytes } };
        }
      }
    }
    // A document's events always end with `end` or throw; reaching here means the stream was cut.
    throw new Error('iSAMS document stream ended without an end event');
  }

  /** Forgets these datasets (records, findings, spool files): their request failed part-way. */
  async discard(datasetIds: readonly DatasetId[]): Promise<void> {
    const gone = new Set(datasetIds);
    for (const d of gone) this.datasets.delete(d);
    for (let i = this.foundFindings.length - 1; i >= 0; i--)
      if (gone.has(this.foundFindings[i]!.datasetId)) this.foundFindings.splice(i, 1);
    this.bytesCurrent = 0;
    await this.spool?.discard(datasetIds);
  }

  /** Forgets everything (a whole-key fetch that is going to be fetched in groups instead). */
  async reset(): Promise<void> {
    this.datasets.clear();
    this.foundFindings.length = 0;
    this.unknown.clear();
    this.bytesDone = 0;
    this.bytesCurrent = 0;
    await this.spool?.reset();
  }

  /** Per-dataset statistics of everything collected (call once, at the end). */
  stats(): RunDatasetStats[] {
    return [...this.datasets.entries()].map(([datasetId, a]) =>
      statsOf(datasetId, a, a.planner.finish(), a.hash.digest('hex')),
    );
  }

  findings(): RunFinding[] {
    return [...this.foundFindings];
  }

  unknownContainers(): string[] {
    return [...this.unknown];
  }

  bytes(): number {
    return this.bytesDone;
  }
}

function statsOf(
  datasetId: DatasetId,
  a: DatasetAcc,
  chunkRecords: number[],
  fingerprint: string,
): RunDatasetStats {
  return {
    datasetId,
    present: true,
    recordCount: a.records,
    bytes: a.bytes,
    chunkCount: chunkRecords.length,
    chunkRecords,
    fingerprint,
  };
}
