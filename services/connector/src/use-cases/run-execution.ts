import type { Logger } from '@isams-sync/logger';
import type { DatasetId } from '@isams-sync/isams';
import { withSpan } from '@isams-sync/telemetry';
import { CHUNK_ENVELOPE_OVERHEAD_BYTES } from '../domain/chunk-plan';
import { ConnectorErrors } from '../domain/connector-errors';
import type { FetchPlan, RunFetch } from '../domain/method-groups';
import type { RunRecord } from '../domain/run-record';
import { nextScheduledRun } from '../domain/schedule';
import type { SchoolSettings } from '../domain/school-settings';
import { freshnessMoveOf } from '../domain/data-freshness';
import { isUnchanged, knownDocumentOf } from '../domain/sync-run';
import type { AppliedSnapshot, RunDatasetStats, RunError, RunStatus } from '../domain/sync-run';
import { ChunkPublishing, versionOf } from './chunk-publishing';
import type { FetchResult, KnownDocumentFetch, RunLease, Spool } from './ports';
import { RunInterrupted, toRunError } from './run-errors';
import { rosterReportTaken } from './roster-reports';
import type { SyncEngineDeps, SyncEngineOptions } from './sync-engine';

/** What became of the retry a transient failure asks for. */
type RetryScheduling = 'scheduled' | 'skipped' | 'superseded';

/** A run's fetch: its result, and the applied snapshot as read once the fetch ended. */
interface Fetched {
  result: FetchResult;
  fetchStart: number;
  snapshot: AppliedSnapshot | null;
  /** The document was the applied snapshot's, byte for byte: `result` is that snapshot's summary. */
  known: boolean;
}

/** What a run reads before its request to iSAMS. */
export interface FetchInputs {
  settings: SchoolSettings | null;
  /** The school's failure streak as the run starts (0 without a schedule). */
  consecutiveFailures: number;
  plan: FetchPlan | null;
  /** The applied snapshot: the document the fetch may know (checked again after the download). */
  before: AppliedSnapshot | null;
}

/**
 * Reads a school's {@link FetchInputs} at once. Reads only, so the work queue begins them while it
 * starts the run, beside the lease, the slot and the step; a run that does not start drops them.
 */
export async function readFetchInputs(deps: SyncEngineDeps, tenantId: string): Promise<FetchInputs> {
  const [settings, schedule, plan, before] = await Promise.all([
    deps.settings.get(tenantId),
    deps.schedules.get(tenantId),
    deps.fetchPlans.get(tenantId),
    deps.snapshots.get(tenantId),
  ]);
  return { settings, consecutiveFailures: schedule?.consecutiveFailures ?? 0, plan, before };
}

/**
 * One started run, carried out under its lease by the sync engine that started it: fetch into
 * the spool → publish the chunks → the run-complete marker (the commit point) → published; or, when
 * a step throws, the failure recorded. Once a dataset read shows the run differs from the applied
 * snapshot, chunks are published while the rest of the document is read ({@link ChunkPublishing});
 * nothing of the run counts before its marker. Every write carries the lease's fence, and a lost
 * lease aborts the run.
 */
export class RunExecution {
  private readonly tenantId: string;
  private readonly log: Logger;
  /** The run's spool, through {@link ChunkPublishing.guard}. */
  private readonly spool: Spool;
  private readonly chunks: ChunkPublishing;
  /** The applied snapshot read before the fetch (what a dataset read is compared with). */
  private before: AppliedSnapshot | null = null;
  /** Chunks published so far, per dataset version ({@link versionOf}), while the document was read and after. */
  private readonly publishedChunks = new Map<string, number>();
  /**
   * The version of each dataset that counts: the last one read while the document is read, those
   * the run ended with once it is read. A version read and then replaced (a container that comes
   * again) is published under other chunk ids and not named by the marker: its chunks are not the run's.
   */
  private countedVersions = new Map<DatasetId, string>();
  private publishingStarted = false;
  /** The run as last recorded. */
  private run: RunRecord;
  /** The school's failure streak when the run started (a retry's back-off counts on from it). */
  private failuresAtStart = 0;
  /** Set when the school's slot must outlive this run (another replica or the sweeper releases it). */
  private keepSlot = false;
  /** The fetch's mode and group outcomes so far (recorded with a failed run too). */
  private fetch: RunFetch | undefined;
  private progressWrite: Promise<void> = Promise.resolve();
  private progressWriting = false;
  /**
   * A step is being written: no progress write starts. On FerretDB a findAndModify reads the run and
   * writes it back, not atomically, so a progress write beside a step could write the old status
   * back over the step's; the step records the progress it knows itself.
   */
  private stepWriting = false;
  private lastProgress = 0;

  /** `inputs`: {@link readFetchInputs}, begun while the run was being started. */
  constructor(
    private readonly deps: SyncEngineDeps,
    private readonly opts: SyncEngineOptions,
    private readonly initial: RunRecord,
    private readonly abort: AbortController,
    private readonly lease: RunLease,
    private readonly inputs: Promise<FetchInputs>,
  ) {
    this.tenantId = initial.tenantId;
    this.log = deps.logger.child({ tenantId: initial.tenantId, syncRunId: initial._id });
    this.chunks = new ChunkPublishing({
      publish: (datasets, opts) => this.publishDatasets(datasets, opts),
      differs: (dataset) => this.run.dryRun || differsFrom(this.before, dataset),
      signal: abort.signal,
    });
    this.spool = this.chunks.guard(deps.spools.forRun(initial._id));
    this.run = initial;
  }

  /** Carries the run out to its end: published, unchanged, or failed (recorded, not thrown). */
  async execute(): Promise<void> {
    const onLost = () => this.abort.abort(new RunInterrupted('run lease lost'));
    if (this.lease.signal.aborted) onLost();
    else this.lease.signal.addEventListener('abort', onLost, { once: true });
    try {
      const { settings, apiKey, plan, before } = await this.begin();
      const fetched = await this.fetchIntoSpool(settings, apiKey, plan, before);
      if (this.endsUnchanged(fetched)) {
        await this.finishUnchanged(settings, fetched);
        return;
      }
      await this.markFetched(settings, fetched.result, fetched.fetchStart, 'fetched');
      const publishStart = Date.now();
      const chunks = await this.publishChunks();
      await this.sendMarker();
      await this.markPublished(publishStart, chunks);
    } catch (err) {
      await this.recordFailure(err);
    } finally {
      this.lease.signal.removeEventListener('abort', onLost);
      await this.release();
    }
  }

  // ---- steps ------------------------------------------------------------------------------------

  /**
   * Announces the started run, empties its spool and takes what the fetch needs (read while the run
   * was being started): the school's settings and key, its fetch plan and its applied snapshot.
   */
  private async begin(): Promise<{
    settings: SchoolSettings;
    apiKey: string;
    plan: FetchPlan | null;
    before: AppliedSnapshot | null;
  }> {
    const [, { settings, consecutiveFailures, plan, before }] = await Promise.all([
      this.deps.publisher.publishRunUpdate(this.run),
      this.inputs,
      this.spool.reset(),
    ]);
    if (!settings) throw ConnectorErrors.CONNECTOR_SETTINGS_NOT_FOUND();
    this.failuresAtStart = consecutiveFailures;
    this.before = before;
    const apiKey = await this.deps.keys.reveal(settings);
    return { settings, apiKey, plan, before };
  }

  /**
   * Fetches the school's document and stream-parses it into the spool (told to the observer either
   * way). A whole-key document whose bytes are those of the applied snapshot's document (same
   * reading) is downloaded but not parsed: the run takes that document's summary, and nothing is
   * spooled — unless the roster applied another run meanwhile, when the document is read in full.
   */
  private async fetchIntoSpool(
    settings: SchoolSettings,
    apiKey: string,
    plan: FetchPlan | null,
    before: AppliedSnapshot | null,
  ): Promise<Fetched> {
    this.lastProgress = Date.now();
    const fetchStart = Date.now();
    const fetchSeconds = () => (Date.now() - fetchStart) / 1000;
    const known = knownDocumentOf(before, { dryRun: this.run.dryRun, reading: this.opts.documentReading });
    const failed = (err: unknown): never => {
      this.deps.observe?.fetched({ seconds: fetchSeconds(), ok: false });
      throw err;
    };
    let fetched = await this.fetchDocument(settings, apiKey, plan, known?.sha256).catch(failed);
    let snapshot = await this.deps.snapshots.get(this.tenantId);
    if ('known' in fetched) {
      if (known && snapshot?.syncRunId === before?.syncRunId) {
        this.log.info(
          { bytes: fetched.bytes, appliedRunId: snapshot?.syncRunId },
          'iSAMS document identical to the last applied one; not parsed',
        );
        const result = { ...known.summary, fetch: fetched.fetch, documentSha256: fetched.sha256 };
        this.deps.observe?.fetched({ seconds: fetchSeconds(), ok: true, known: true, bytes: result.bytes });
        return { result, fetchStart, snapshot, known: true };
      }
      this.log.info('the roster applied another run during the fetch; reading the document in full');
      await this.spool.reset();
      fetched = await this.fetchDocument(settings, apiKey, plan, undefined).catch(failed);
      snapshot = await this.deps.snapshots.get(this.tenantId);
      if ('known' in fetched) throw new Error('a fetch naming no known document stopped on one');
    }
    this.deps.observe?.fetched({
      seconds: fetchSeconds(),
      ok: true,
      datasets: fetched.datasets,
      bytes: fetched.bytes,
    });
    return { result: fetched, fetchStart, snapshot, known: false };
  }

  /** One fetch of the document into the spool (stopping on `knownSha256`'s bytes). */
  private fetchDocument(
    settings: SchoolSettings,
    apiKey: string,
    plan: FetchPlan | null,
    knownSha256: string | undefined,
  ): Promise<FetchResult | KnownDocumentFetch> {
    return withSpan('connector.fetch', { attributes: { 'isams_sync.source_format': settings.format } }, () =>
      this.deps.source.fetchToSpool({
        source: { baseUrl: settings.isamsUrl, apiKey, format: settings.format },
        spool: this.spool,
        maxChunkRecordBytes: this.opts.maxChunkBytes - CHUNK_ENVELOPE_OVERHEAD_BYTES,
        signal: this.abort.signal,
        logger: this.log,
        plan,
        onPlanChange: (plan) =>
          this.deps.fetchPlans.put(this.tenantId, plan).catch((err: unknown) => {
            this.log.warn({ err }, 'fetch plan not saved; the next run learns it again');
          }),
        onFetch: (f) => {
          this.fetch = f;
        },
        onProgress: (p) =>
          this.writeProgress(() => ({
            ...this.run.progress,
            ...p,
            datasetsTotal: 14,
            chunksPublished: this.chunksPublished,
          })),
        onDatasetRead: (dataset) => {
          this.countedVersions.set(dataset.datasetId, versionOf(dataset));
          this.chunks.read(dataset);
        },
        ...(knownSha256 ? { knownSha256 } : {}),
      }),
    );
  }

  /**
   * `fetching → fetched` (or straight to `unchanged`, a run with nothing to publish) with what the
   * fetch found.
   */
  private async markFetched(
    settings: SchoolSettings,
    result: FetchResult,
    fetchStart: number,
    status: 'fetched' | 'unchanged',
  ): Promise<void> {
    await this.progressWrite;
    this.abort.signal.throwIfAborted();
    this.countedVersions = new Map(result.datasets.map((d) => [d.datasetId, versionOf(d)]));
    const fetchedAt = new Date();
    const chunksTotal = result.datasets.reduce((n, d) => n + d.chunkCount, 0);
    this.run = await this.advance(status, {
      ...(status === 'unchanged' ? { finishedAt: fetchedAt } : {}),
      fetchedAt,
      fetchDurationMs: fetchedAt.getTime() - fetchStart,
      datasets: result.datasets,
      absent: result.absent,
      unknownContainers: result.unknownContainers,
      findings: result.findings,
      sourceFormat: settings.format,
      fetch: result.fetch,
      ...(result.documentSha256
        ? { document: { sha256: result.documentSha256, reading: this.opts.documentReading } }
        : {}),
      progress: {
        datasetsDone: result.datasets.length,
        datasetsTotal: result.datasets.length + result.absent.length,
        recordsFetched: result.datasets.reduce((n, d) => n + d.recordCount, 0),
        bytesFetched: result.bytes,
        chunksPublished: this.chunksPublished,
        chunksTotal,
        ...(result.fetch.mode === 'groups'
          ? { groupsDone: result.fetch.groups.length, groupsTotal: result.fetch.groups.length }
          : {}),
      },
    });
    this.log.info(
      {
        datasets: result.datasets.length,
        absent: result.absent,
        bytes: result.bytes,
        ms: this.run.fetchDurationMs,
        mode: result.fetch.mode,
      },
      'iSAMS document fetched',
    );
  }

  /**
   * Unchanged since the last applied snapshot (not a dry run): nothing to publish. A run that began
   * publishing while its document was read goes on to its marker even when the snapshot it ends
   * equal to was applied meanwhile (the roster then finds nothing to change); a document known by
   * its bytes is the snapshot's, whatever was read of it before they ended.
   */
  private endsUnchanged({ result, snapshot, known }: Fetched): boolean {
    const unchanged =
      !this.run.dryRun &&
      (known || !this.chunks.began) &&
      isUnchanged(result.datasets, result.absent, snapshot);
    // A document known by its bytes spooled nothing: it may only end unchanged.
    if (!unchanged && known) throw new Error('a known document differs from the snapshot it was known by');
    return unchanged;
  }

  /**
   * `fetching → unchanged` in one step (the fetch's summary with it: a `fetched` step in between
   * would only cost the admin a decided step and an event more), then the school's data counts as
   * fresh and its failure streak ends.
   */
  private async finishUnchanged(settings: SchoolSettings, fetched: Fetched): Promise<void> {
    await this.markFetched(settings, fetched.result, fetched.fetchStart, 'unchanged');
    this.log.info('data unchanged since the last applied sync; nothing published');
    const freshness = freshnessMoveOf(this.run);
    if (freshness) await this.deps.freshness.advance(this.tenantId, freshness);
    await this.endFailureStreak();
  }

  /**
   * Publishes the chunks not yet published while the document was read (all of them when none
   * were); resolves to how many the run published.
   */
  private async publishChunks(): Promise<number> {
    this.lastProgress = Date.now();
    await this.startPublishing();
    await this.chunks.finish(this.run.datasets);
    // The last progress write lands before the marker attempt is decided.
    await this.progressWrite;
    this.abort.signal.throwIfAborted();
    const published = this.chunksPublished;
    this.run = { ...this.run, progress: { ...this.run.progress, chunksPublished: published } };
    await this.deps.onStep?.('chunks-published', this.run);
    return published;
  }

  /** Before the run's first chunk: the lease is still this replica's. */
  private async startPublishing(): Promise<void> {
    if (this.publishingStarted) return;
    this.publishingStarted = true;
    await this.lease.fence.check();
    await this.deps.onStep?.('publishing', this.run);
  }

  /** Publishes these datasets' chunks ({@link ChunkPublishing}'s `publish`), counting them. */
  private async publishDatasets(
    datasets: readonly RunDatasetStats[],
    opts: { prefix: boolean },
  ): Promise<void> {
    await this.startPublishing();
    await withSpan(
      'connector.publish-chunks',
      { attributes: { 'isams_sync.while_reading': opts.prefix } },
      () =>
        this.deps.publisher.publishChunks(
          this.run,
          datasets,
          this.spool,
          (chunks) => {
            this.abort.signal.throwIfAborted();
            for (const d of chunks) {
              const version = versionOf(d);
              this.publishedChunks.set(version, (this.publishedChunks.get(version) ?? 0) + 1);
            }
            this.writeProgress(() => ({ ...this.run.progress, chunksPublished: this.chunksPublished }));
          },
          opts,
        ),
    );
  }

  /** Decides the marker attempt, then sends the run-complete marker. */
  private async sendMarker(): Promise<void> {
    // Decided once: after this a stale-run sweep re-sends the marker instead of failing the run.
    const attempted = await this.writingStep(() =>
      this.deps.runs.recordStep(
        this.run,
        { markerAttemptedAt: new Date(), progress: this.run.progress },
        undefined,
        this.lease.fence,
      ),
    );
    if (!attempted.won || !attempted.run) throw new RunInterrupted('run changed state while publishing');
    this.run = attempted.run;
    await this.deps.onStep?.('marker-attempted', this.run);
    await this.lease.fence.check();
    await this.deps.publisher.publishMarker(this.run);
  }

  /** `fetched → published`; the school's failure streak ends. */
  private async markPublished(publishStart: number, chunks: number): Promise<void> {
    const publishedAt = new Date();
    this.deps.observe?.published({ seconds: (publishedAt.getTime() - publishStart) / 1000 });
    this.run = await this.advance('published', {
      publishedAt,
      publishDurationMs: publishedAt.getTime() - publishStart,
    });
    // A roster that answered the marker before this step was recorded: its report was kept, and
    // the step took it (the run may already say applied or held).
    if (this.run.rosterSequence !== undefined) await rosterReportTaken(this.deps, this.run);
    await this.endFailureStreak();
    this.log.info({ chunks, ms: this.run.publishDurationMs }, 'snapshot published');
  }

  // ---- failure and release ----------------------------------------------------------------------

  /** Logs the failure, discards the spool, schedules a retry when it is transient and marks the run failed. */
  private async recordFailure(err: unknown): Promise<void> {
    const cause: unknown = this.abort.signal.aborted ? this.abort.signal.reason : err;
    const error = toRunError(cause, this.opts.egressIps);
    // Refused (MONGO_FENCED): another replica took the run's lease over, and it decides the run's
    // outcome and the school's schedule; this one changes neither.
    let superseded = this.deps.leases.isFenced(cause);
    if (superseded) this.log.warn({ err: cause }, 'run taken over by another replica; this one stops');
    else if (error.code === 'CONNECTOR_RUN_FAILED') this.log.error({ err }, 'sync run failed');
    else this.log.warn({ code: error.code, transient: error.transient }, 'sync run failed');
    // A failed run's spool is of no use: gone (its writes still in flight awaited) before anyone
    // can see `failed`.
    await this.spool.remove().catch(() => undefined);
    // The retry is scheduled before the run is marked failed, so whoever sees `failed` (the
    // gateway, the admin) also sees when it will be tried again.
    if (error.transient && !superseded) superseded = (await this.scheduleRetry()) === 'superseded';
    // A progress write still in flight would race the failure (FerretDB updates are not atomic).
    await this.progressWrite;
    if (superseded) {
      this.keepSlot = true; // the replica that took the run over releases it
      return;
    }
    const failed = await this.markFailed(error);
    if (failed)
      await this.deps.publisher
        .publishRunUpdate(failed)
        .catch((e: unknown) => this.log.warn({ err: e }, 'run update not published'));
  }

  /**
   * A run that ended well ends the school's failure streak (a write only when there is one). The
   * next run time is left alone: the scheduler set it when it started this run, or the admin saved
   * another while it ran; writing back the one read at the start would undo that save.
   */
  private async endFailureStreak(): Promise<void> {
    if (this.failuresAtStart > 0) await this.deps.schedules.clearFailures(this.tenantId);
  }

  /** The school's next try, backed off by its failure streak (none while its sync is disabled). */
  private async scheduleRetry(): Promise<RetryScheduling> {
    const settings = await this.deps.settings.get(this.tenantId).catch(() => null);
    if (!settings?.enabled) return 'skipped';
    const failures = this.failuresAtStart + 1;
    const next = nextScheduledRun({
      tenantId: this.tenantId,
      endedAt: new Date(),
      scheduleMinutes: settings.scheduleMinutes,
      jitterMs: this.opts.scheduleJitterMs,
      consecutiveFailures: failures,
    });
    return this.deps.leases
      .fencedWrite(this.lease.fence, () => this.deps.schedules.setNext(this.tenantId, next, failures))
      .then(
        () => 'scheduled',
        (e: unknown) => (this.deps.leases.isFenced(e) ? 'superseded' : 'skipped'),
      );
  }

  /** Records the failure; null when it was not recorded (another replica decided, or the write failed). */
  private async markFailed(error: RunError): Promise<RunRecord | null> {
    try {
      // Refused (MONGO_FENCED) when another replica took the run's lease over: that one decides.
      const outcome = await this.deps.runs.recordStep(
        this.run,
        { status: 'failed', error, finishedAt: new Date(), ...(this.fetch ? { fetch: this.fetch } : {}) },
        { sequence: 1 },
        this.lease.fence,
      );
      return outcome.won ? outcome.run : null;
    } catch (e) {
      // The run may still look in flight: its marked slot stays so the sweeper fails it later.
      this.keepSlot = true;
      this.log.warn({ err: e }, 'failed run not recorded');
      return null;
    }
  }

  /** Removes the spool, frees the school's slot (unless kept) and gives the lease back. */
  private async release(): Promise<void> {
    await this.spool.remove().catch(() => undefined);
    if (!this.keepSlot)
      await this.deps.leases
        .fencedWrite(this.lease.fence, () =>
          this.deps.runs.releaseSchoolSlot(this.tenantId, this.initial._id),
        )
        .catch(() => undefined);
    await this.lease.release();
  }

  /** The run's chunks published so far: those of the {@link countedVersions}. */
  private get chunksPublished(): number {
    let n = 0;
    for (const version of this.countedVersions.values()) n += this.publishedChunks.get(version) ?? 0;
    return n;
  }

  // ---- run record -------------------------------------------------------------------------------

  /** Moves the run to `status` (one sequence step, decided under the lease) and publishes the lifecycle event. */
  private async advance(status: RunStatus, set: Partial<RunRecord>): Promise<RunRecord> {
    const { won, run: updated } = await this.writingStep(() =>
      this.deps.runs.recordStep(
        this.run,
        { ...set, status, heartbeatAt: new Date() },
        { sequence: 1 },
        this.lease.fence,
      ),
    );
    if (!won || !updated) throw new RunInterrupted(`run left ${this.run.status} unexpectedly`);
    await this.deps.publisher.publishRunUpdate(updated);
    return updated;
  }

  /**
   * Writes a step with no progress write beside it ({@link stepWriting}): the one in flight lands
   * first, and none starts until the step is written.
   */
  private async writingStep<T>(write: () => Promise<T>): Promise<T> {
    this.stepWriting = true;
    try {
      await this.progressWrite;
      return await write();
    } finally {
      this.stepWriting = false;
    }
  }

  /**
   * Progress is written beside the work, not in its way (a fenced write is five round trips): one
   * write at a time, none queued behind it (awaited in line, or queued, they held the run up by the
   * database's latency times the writes: a large school's publish took 26 s instead of 1–2 at 50 ms
   * per round trip); a refused one (another replica took the run over) aborts the run.
   */
  private writeProgress(progress: () => RunRecord['progress']): void {
    if (this.progressWriting || this.stepWriting) return;
    if (Date.now() - this.lastProgress < this.opts.progressIntervalMs) return;
    this.lastProgress = Date.now();
    this.progressWriting = true;
    this.progressWrite = this.saveProgress(this.run, progress())
      .catch((err: unknown) => {
        if (this.deps.leases.isFenced(err)) this.abort.abort(err);
        else this.log.warn({ err }, 'run progress not written');
      })
      .finally(() => (this.progressWriting = false));
  }

  /** Progress inside a status: stored for GetSyncRun/WatchSyncRun and published for dashboards. */
  private async saveProgress(run: RunRecord, progress: RunRecord['progress']): Promise<void> {
    const updated = await this.deps.leases.fencedWrite(this.lease.fence, () =>
      this.deps.runs.recordProgress(run, progress),
    );
    if (updated) {
      run.progress = progress;
      await this.deps.publisher.publishRunUpdate(updated);
    }
  }
}

/**
 * Whether a dataset as read shows a run differs from the applied snapshot `before`: no snapshot, or a
 * fingerprint it lacks — unless the dataset's container came more than once in the snapshot's
 * document, whose version read at the end of one container is not the dataset's.
 */
function differsFrom(before: AppliedSnapshot | null, dataset: RunDatasetStats): boolean {
  if (before === null) return true;
  if (before.repeatedContainers?.includes(dataset.datasetId)) return false;
  return before.fingerprints[dataset.datasetId] !== dataset.fingerprint;
}
