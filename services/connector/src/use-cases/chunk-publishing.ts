import type { DatasetId } from '@isams-sync/isams';
import type { RunDatasetStats } from '../domain/sync-run';
import type { Spool } from './ports';

/** What {@link ChunkPublishing} needs from its run. */
export interface ChunkPublishingDeps {
  /**
   * Publishes the datasets' chunks from the spool, in order; `prefix`: datasets read so far, whose
   * spool files may hold more lines ({@link Spool.chunks}).
   */
  publish(datasets: readonly RunDatasetStats[], opts: { prefix: boolean }): Promise<void>;
  /**
   * Whether a dataset as read shows the run will be published whatever the rest of the document
   * holds: a run without an applied snapshot, a dry run, or a fingerprint the snapshot does not have.
   */
  differs(dataset: RunDatasetStats): boolean;
  /** The run's abort signal: once aborted, nothing more is published. */
  signal: AbortSignal;
}

/**
 * A run's chunks, published while its document is still being read. Until a dataset read shows the
 * run differs from the applied snapshot, the datasets read wait (an unchanged run publishes
 * nothing); from then on each dataset is published as soon as its container ends, one at a time in
 * the background, while the parse goes on. After the fetch, {@link finish} publishes what is left:
 * the result's datasets whose fingerprint was not published yet (all of them when nothing was).
 *
 * A dataset read is not final: a later container of it adds records, a retried method group or a
 * switch to groups reads it again. Its chunk ids name its fingerprint, so a version the run did not
 * end with is published under other ids, and the run-complete marker names the fingerprint of
 * each dataset that counts (the roster stages chunks by fingerprint). The spool the fetch writes
 * through {@link guard} lets the publishing in flight finish reading before files are reset or
 * discarded.
 */
export class ChunkPublishing {
  /** `<dataset>|<fingerprint>` of the versions published (same fingerprint ⇒ same records and chunks). */
  private readonly published = new Set<string>();
  /** Datasets read before the run was known to differ, latest version of each. */
  private readonly waiting = new Map<DatasetId, RunDatasetStats>();
  private started = false;
  /** The spool is being removed (the run ended): nothing queued is published any more. */
  private stopped = false;
  private work: Promise<void> = Promise.resolve();
  private failure: { error: unknown } | undefined;

  constructor(private readonly deps: ChunkPublishingDeps) {}

  /** Whether publishing began while the document was read: the run then publishes, changed or not. */
  get began(): boolean {
    return this.started;
  }

  /** A dataset as read so far (`SpoolFetch.onDatasetRead`). */
  read(dataset: RunDatasetStats): void {
    if (this.started) {
      this.enqueue([dataset]);
      return;
    }
    this.waiting.set(dataset.datasetId, dataset);
    if (!this.deps.differs(dataset)) return;
    this.started = true;
    this.enqueue([...this.waiting.values()]);
    this.waiting.clear();
  }

  /** Resolves once the publishing in flight has ended (never rejects). */
  settled(): Promise<void> {
    return this.work;
  }

  /**
   * After the fetch: waits for the publishing in flight, throws its failure if it failed, then
   * publishes every dataset of `datasets` whose version was not published yet.
   */
  async finish(datasets: readonly RunDatasetStats[]): Promise<void> {
    await this.work;
    if (this.failure) throw this.failure.error;
    this.deps.signal.throwIfAborted();
    const left = datasets.filter((d) => !this.published.has(versionOf(d)));
    if (left.length > 0) await this.deps.publish(left, { prefix: false });
    for (const d of left) this.published.add(versionOf(d));
  }

  /** The fetch's spool: resetting, discarding or removing it waits for the publishing in flight. */
  guard(spool: Spool): Spool {
    return {
      reset: async () => {
        await this.work;
        this.waiting.clear();
        await spool.reset();
      },
      discard: async (datasetIds) => {
        await this.work;
        for (const id of datasetIds) this.waiting.delete(id);
        await spool.discard(datasetIds);
      },
      remove: async () => {
        this.stopped = true;
        await this.work;
        await spool.remove();
      },
      appendLines: (datasetId, lines) => spool.appendLines(datasetId, lines),
      touch: (datasetId) => spool.touch(datasetId),
      close: () => spool.close(),
      chunks: (datasetId, chunkRecords, opts) => spool.chunks(datasetId, chunkRecords, opts),
    };
  }

  /** Publishes these versions after the work before them (one publish at a time). */
  private enqueue(datasets: readonly RunDatasetStats[]): void {
    this.work = this.work.then(async () => {
      if (this.failure || this.stopped || this.deps.signal.aborted) return;
      const todo = datasets.filter((d) => !this.published.has(versionOf(d)));
      if (todo.length === 0) return;
      try {
        await this.deps.publish(todo, { prefix: true });
        for (const d of todo) this.published.add(versionOf(d));
      } catch (error) {
        this.failure = { error };
      }
    });
  }
}

/** A dataset's version as read: `<dataset>|<fingerprint>` (same fingerprint ⇒ same records and chunks). */
export const versionOf = (d: Pick<RunDatasetStats, 'datasetId' | 'fingerprint'>): string =>
  `${d.datasetId}|${d.fingerprint}`;
