import { createHash } from 'node:crypto';
import { DATASET_IDS, FINDING_CODES, IsamsError } from '@isams-sync/isams';
import type { DatasetId } from '@isams-sync/isams';
import { MongoErrors, confirmFenceAfterClaim, fencedWrite, settleExistingClaim } from '@isams-sync/mongo';
import { markerData } from '../../../src/adapters/kafka/run-publisher';
import type { FreshnessMove } from '../../../src/domain/data-freshness';
import type { FetchPlan, RunFetch } from '../../../src/domain/method-groups';
import { recordRunStep, runStep } from '../../../src/domain/run-record';
import type { QueuedRun, RunRecord, RunStep, RunStepPatch, SchoolSlot } from '../../../src/domain/run-record';
import type { SchoolSchedule } from '../../../src/domain/schedule';
import type { SchoolSettings } from '../../../src/domain/school-settings';
import { scheduleClaimKey } from '../../../src/domain/schedule';
import { fetchedAfter, heldBatchDecisionOf, takesRosterReport } from '../../../src/domain/sync-run';
import type {
  AppliedSnapshot,
  HeldBatchDecision,
  RunDatasetStats,
  RunProgress,
  RunStatus,
} from '../../../src/domain/sync-run';
import type {
  AppliedSnapshotStore,
  BatchSource,
  FetchPlanStore,
  FetchResult,
  FreshnessStore,
  KeyRevealer,
  KnownDocumentFetch,
  RunFence,
  RunLease,
  RunLeases,
  RunPublisher,
  RunStore,
  ScheduleClaimStore,
  SettingsStore,
  SlotClaim,
  Spool,
  SpoolFetch,
  Spools,
  StepDecision,
  UnfinishedRun,
} from '../../../src/use-cases/ports';
import type { SyncEngineDeps, SyncEngineOptions } from '../../../src/use-cases/sync-engine';
import { linesOf } from '../spool-lines';
import type { ProcessLife } from './process-life';
import { InMemorySchedules, schoolSchedule, schoolSettings } from './settings-ports';

/** An event as it reached the broker (ids are deterministic: the same id is the same event). */
export type PublishedEvent =
  | { kind: 'run-update'; id: string; syncRunId: string; status: RunStatus; sequence: number }
  | {
      kind: 'chunk';
      id: string;
      syncRunId: string;
      datasetId: DatasetId;
      fingerprint: string;
      chunkIndex: number;
      records: string[];
    }
  | { kind: 'marker'; id: string; syncRunId: string; data: ReturnType<typeof markerData> };

/** A school's iSAMS as the in-memory batch source serves it: records per present dataset. */
export interface ScriptedSchool {
  records: Partial<Record<DatasetId, Array<Record<string, unknown>>>>;
  /** Records per chunk. */
  chunkSize: number;
  /** Fail (transiently, as iSAMS cutting the document off) after this many datasets. */
  failAfterDatasets?: number;
  /** The sha256 of the document's bytes (a whole-key fetch stops on it when it is the known one). */
  documentSha256?: string;
  /**
   * This dataset's container comes twice (ISAMS_DUPLICATE_CONTAINER, a finding of the fetch): it is
   * told as read after its first record alone, then whole. A known document gets that far too.
   */
  repeatedContainer?: DatasetId;
}

/** What fetching `school` makes of it: each present dataset's statistics (chunks of `chunkSize`). */
export function scriptedDatasets(school: ScriptedSchool): RunDatasetStats[] {
  return DATASET_IDS.filter((d) => school.records[d] !== undefined).map((datasetId) => {
    const lines = (school.records[datasetId] ?? []).map((r) => JSON.stringify(r));
    const chunkRecords: number[] = [];
    for (let at = 0; at < lines.length; at += school.chunkSize)
      chunkRecords.push(Math.min(school.chunkSize, lines.length - at));
    return {
      datasetId,
      present: true,
      recordCount: lines.length,
      bytes: lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0),
      chunkCount: chunkRecords.length,
      chunkRecords,
      fingerprint: createHash('sha256').update(lines.join('\n')).digest('hex'),
    };
  });
}

/** A repeated dataset as read at the end of its first container (its first record alone). */
function firstContainerOf(school: ScriptedSchool, datasetId: DatasetId): RunDatasetStats {
  const [first] = scriptedDatasets({
    ...school,
    records: { [datasetId]: (school.records[datasetId] ?? []).slice(0, 1) },
  });
  return first!;
}

interface StepClaim {
  patch: RunStepPatch;
  fence: { key: string; token: number } | null;
}

interface LeaseRecord {
  generation: number;
  expiresAt: number;
  released: boolean;
  /** The holder's lost-lease signal (aborted when released or taken over). */
  abort: AbortController;
}

/**
 * Everything a connector process shares with the next one: the database (runs, step claims, slots,
 * queue, settings, plans, snapshots, claims, leases), the broker's log and the spool volume. A
 * crashed process leaves it as it was; a new process starts on the same world.
 */
export class ConnectorWorld {
  readonly runs = new Map<string, RunRecord>();
  readonly steps = new Map<string, StepClaim>();
  /** The roster's reports kept per school, run and sequence (`<tenant>|<runId>|<sequence>`). */
  readonly reports = new Map<
    string,
    { tenantId: string; syncRunId: string; sequence: number; set: Partial<RunRecord> }
  >();
  readonly slots = new Map<string, SchoolSlot>();
  /** Each school's last fetch sequence taken. */
  readonly fetchSequences = new Map<string, number>();
  readonly queue = new Map<string, QueuedRun>();
  readonly settings = new Map<string, SchoolSettings>();
  readonly schedules = new Map<string, SchoolSchedule>();
  readonly plans = new Map<string, FetchPlan>();
  readonly freshness = new Map<string, FreshnessMove>();
  readonly snapshots = new Map<string, AppliedSnapshot>();
  readonly claims = new Map<string, Date>();
  readonly leases = new Map<string, LeaseRecord>();
  readonly spools = new Map<string, Map<DatasetId, string[]>>();
  readonly events: PublishedEvent[] = [];
  /** Each fetch of the school's document: the known document's sha256 it was given (null: none). */
  readonly fetches: (string | null)[] = [];

  constructor(
    readonly school: ScriptedSchool,
    readonly leaseTtlMs: number,
  ) {}
}

const copy = <T>(value: T): T => structuredClone(value);
const stepId = (recordId: string, step: RunStep) => `${recordId}|${step}`;

/**
 * The runs store with the semantics the engine relies on, as `RunsRepository` has them on
 * MongoDB: a step is decided once by a claim (fence checked before and after; a newer holder's
 * claim refuses an older one with `MONGO_FENCED`; an earlier decision is adopted), the run is
 * updated from the claim only while it is still in that step, and a read brings a run forward to
 * its decided steps. Every read and write returns copies, as a database does.
 */
export class InMemoryRunStore implements RunStore {
  constructor(
    private readonly world: ConnectorWorld,
    private readonly life: ProcessLife,
  ) {}

  get(tenantId: string, id: string): Promise<RunRecord | null> {
    return this.life.io('runs.get', () => this.read(tenantId, id));
  }

  private async read(tenantId: string, id: string): Promise<RunRecord | null> {
    let run = this.find(tenantId, id);
    for (let i = 0; run !== null && i < 4; i++) {
      const step = runStep(run);
      if (step === null) break;
      const claim = this.world.steps.get(stepId(id, step));
      if (!claim) break;
      run = (await this.applyStep(tenantId, id, step, claim.patch)) ?? this.find(tenantId, id);
    }
    return run;
  }

  private find(tenantId: string, id: string): RunRecord | null {
    const run = this.world.runs.get(id);
    return run && run.tenantId === tenantId ? copy(run) : null;
  }

  recordRequested(run: RunRecord): Promise<void> {
    return this.life.io('runs.recordRequested', () => {
      if (this.world.runs.has(run._id)) throw new Error(`duplicate run ${run._id}`);
      this.world.runs.set(run._id, copy(run));
    });
  }

  countManualRequestsSince(tenantId: string, since: Date): Promise<number> {
    return this.life.io(
      'runs.countManualRequestsSince',
      () =>
        [...this.world.runs.values()].filter(
          (r) => r.tenantId === tenantId && r.trigger.kind === 'manual' && r.requestedAt >= since,
        ).length,
    );
  }

  async recordStep(
    run: RunRecord,
    set: Partial<RunRecord>,
    inc: { sequence: number } | undefined,
    fence: RunFence | null,
  ): Promise<StepDecision> {
    return recordRunStep(run, set, inc, {
      claim: (step, patch) => this.claimStep(run._id, step, patch, fence),
      apply: (step, patch) => this.applyStep(run.tenantId, run._id, step, patch),
      reload: () => this.get(run.tenantId, run._id),
    });
  }

  private async claimStep(
    recordId: string,
    step: RunStep,
    patch: RunStepPatch,
    fence: RunFence | null,
  ): Promise<{ won: boolean; claim: StepClaim }> {
    if (fence) await fence.check();
    const token = fence ? { key: fence.key, token: fence.token } : null;
    const existing = await this.life.io('runs.claimStep', () => {
      const id = stepId(recordId, step);
      const found = this.world.steps.get(id);
      if (found === undefined) this.world.steps.set(id, { patch: copy(patch), fence: token });
      return found === undefined ? undefined : copy(found);
    });
    if (existing) return settleExistingClaim(existing, fence, step);
    await confirmFenceAfterClaim(fence, step);
    return { won: true, claim: { patch, fence: token } };
  }

  private applyStep(
    tenantId: string,
    id: string,
    step: RunStep,
    patch: RunStepPatch,
  ): Promise<RunRecord | null> {
    const applied = this.life.io('runs.applyStep', () => {
      const run = this.world.runs.get(id);
      if (!run || run.tenantId !== tenantId || runStep(run) !== step) return null;
      return this.update(run, patch.set, patch.inc);
    });
    // The step that records `published` takes the reports kept meanwhile.
    if (step !== 'marker-attempted') return applied;
    return applied.then((run) => (run === null ? null : this.takeReports(tenantId, id)));
  }

  /** Applies the newest report kept for the run when the run takes it; the run as it is then. */
  private takeReports(tenantId: string, id: string): Promise<RunRecord | null> {
    return this.life.io('runs.takeReports', () => {
      const run = this.world.runs.get(id);
      if (!run || run.tenantId !== tenantId) return null;
      let newest: { sequence: number; set: Partial<RunRecord> } | undefined;
      for (const r of this.world.reports.values())
        if (r.syncRunId === id && r.tenantId === tenantId && r.sequence > (newest?.sequence ?? -1))
          newest = r;
      if (!newest || !takesRosterReport(run, newest.sequence)) return copy(run);
      return this.update(run, newest.set);
    });
  }

  private update(run: RunRecord, set: Partial<RunRecord>, inc?: { sequence: number }): RunRecord {
    const next: RunRecord = { ...run, ...copy(set), updatedAt: new Date() };
    if (inc) next.sequence += inc.sequence;
    this.world.runs.set(run._id, next);
    return copy(next);
  }

  private transition(run: RunRecord, set: Partial<RunRecord>, inc?: { sequence: number }): RunRecord | null {
    const stored = this.world.runs.get(run._id);
    if (!stored || stored.tenantId !== run.tenantId || stored.status !== run.status) return null;
    return this.update(stored, set, inc);
  }

  recordProgress(run: RunRecord, progress: RunProgress): Promise<RunRecord | null> {
    return this.life.io('runs.recordProgress', () =>
      this.transition(run, { progress, heartbeatAt: new Date() }, { sequence: 1 }),
    );
  }

  async recordRosterReport(
    tenantId: string,
    syncRunId: string,
    sequence: number,
    set: Partial<RunRecord>,
  ): Promise<RunRecord | null> {
    await this.life.io('runs.keepRosterReport', () => {
      const key = `${tenantId}|${syncRunId}|${sequence}`;
      if (!this.world.reports.has(key))
        this.world.reports.set(key, { tenantId, syncRunId, sequence, set: copy(set) });
    });
    return this.takeReports(tenantId, syncRunId);
  }

  decideHeldRuns(tenantId: string, heldBatchId: string, decision: HeldBatchDecision): Promise<RunRecord[]> {
    return this.life.io('runs.decideHeldRuns', () => {
      const onBatch = [...this.world.runs.values()].filter(
        (r) => r.tenantId === tenantId && r.heldBatchId === heldBatchId && !r.dryRun,
      );
      for (const run of onBatch.filter((r) => r.status === 'held'))
        this.update(run, { status: decision, rosterStatus: decision });
      return onBatch.map((r) => copy(this.world.runs.get(r._id)!)).filter((r) => r.status === decision);
    });
  }

  heldBatchDecision(tenantId: string, heldBatchId: string): Promise<HeldBatchDecision | undefined> {
    return this.life.io('runs.heldBatchDecision', () =>
      [...this.world.runs.values()]
        .filter((r) => r.tenantId === tenantId && r.heldBatchId === heldBatchId && !r.dryRun)
        .map((r) => heldBatchDecisionOf(r))
        .find((d) => d !== undefined),
    );
  }

  unfinished(): Promise<UnfinishedRun[]> {
    return this.life.io('runs.unfinished', () =>
      [...this.world.runs.values()]
        .filter((r) => r.status === 'requested' || r.status === 'fetching' || r.status === 'fetched')
        .map((r) => ({ _id: r._id, tenantId: r.tenantId, status: r.status, requestedAt: r.requestedAt })),
    );
  }

  queueRun(entry: QueuedRun): Promise<void> {
    return this.life.io('queue.add', () => {
      if (!this.world.queue.has(entry._id)) this.world.queue.set(entry._id, copy(entry));
    });
  }

  queuedRuns(limit = 0): Promise<QueuedRun[]> {
    return this.life.io('queue.list', () => {
      const all = [...this.world.queue.values()].sort(
        (a, b) => a.requestedAt.getTime() - b.requestedAt.getTime(),
      );
      return copy(limit > 0 ? all.slice(0, limit) : all);
    });
  }

  dequeueRun(tenantId: string, syncRunId: string): Promise<void> {
    return this.life.io('queue.remove', () => {
      if (this.world.queue.get(syncRunId)?.tenantId === tenantId) this.world.queue.delete(syncRunId);
    });
  }

  nextFetchSequence(tenantId: string): Promise<number> {
    return this.life.io('runs.nextFetchSequence', () => {
      const next = (this.world.fetchSequences.get(tenantId) ?? 0) + 1;
      this.world.fetchSequences.set(tenantId, next);
      return next;
    });
  }

  claimSchoolSlot(tenantId: string, syncRunId: string): Promise<SlotClaim> {
    return this.life.io('slots.claim', (): SlotClaim => {
      const holder = this.world.slots.get(tenantId);
      if (holder) return { claimed: false, holder: holder.syncRunId };
      this.world.slots.set(tenantId, { _id: tenantId, tenantId, syncRunId, claimedAt: new Date() });
      return { claimed: true };
    });
  }

  schoolSlot(tenantId: string): Promise<SchoolSlot | null> {
    return this.life.io('slots.get', () => copy(this.world.slots.get(tenantId) ?? null));
  }

  markSlotStarted(tenantId: string, syncRunId: string): Promise<boolean> {
    return this.life.io('slots.markStarted', () => {
      const slot = this.world.slots.get(tenantId);
      if (slot?.syncRunId !== syncRunId) return false;
      slot.startedAt = new Date();
      return true;
    });
  }

  releaseSchoolSlot(tenantId: string, syncRunId: string): Promise<void> {
    return this.life.io('slots.release', () => {
      if (this.world.slots.get(tenantId)?.syncRunId === syncRunId) this.world.slots.delete(tenantId);
    });
  }

  schoolSlots(): Promise<SchoolSlot[]> {
    return this.life.io('slots.list', () => copy([...this.world.slots.values()]));
  }
}

/**
 * Run leases as libs/mongo's keeper has them: one holder per key until released or expired (ttl,
 * on the wall clock); each acquisition is a new generation, and a fence checks that its generation
 * is still the newest (`MONGO_FENCED` otherwise). A taken-over holder's signal is aborted.
 */
export class InMemoryRunLeases implements RunLeases {
  constructor(
    private readonly world: ConnectorWorld,
    private readonly life: ProcessLife,
  ) {}

  acquire(key: string): Promise<RunLease | null> {
    return this.life.io('leases.acquire', () => {
      const current = this.world.leases.get(key);
      if (current && !current.released && current.expiresAt > Date.now()) return null;
      current?.abort.abort(
        MongoErrors.MONGO_LEASE_LOST({ key, token: current.generation, reason: 'refused' }),
      );
      const record: LeaseRecord = {
        generation: (current?.generation ?? 0) + 1,
        expiresAt: Date.now() + this.world.leaseTtlMs,
        released: false,
        abort: new AbortController(),
      };
      this.world.leases.set(key, record);
      return this.leaseOf(key, record);
    });
  }

  private leaseOf(key: string, record: LeaseRecord): RunLease {
    const { world, life } = this;
    const token = record.generation;
    return {
      fence: {
        key,
        token,
        check: () =>
          life.io('leases.check', () => {
            if (world.leases.get(key)?.generation !== token) throw MongoErrors.MONGO_FENCED({ key, token });
          }),
      },
      signal: record.abort.signal,
      release: () =>
        life.io('leases.release', () => {
          if (world.leases.get(key)?.generation === token) record.released = true;
          record.abort.abort(MongoErrors.MONGO_LEASE_LOST({ key, token, reason: 'released' }));
        }),
    };
  }

  prune(): Promise<number> {
    return this.life.io('leases.prune', () => 0);
  }

  fencedWrite<T>(fence: RunFence, write: () => Promise<T>): Promise<T> {
    return fencedWrite(fence, write);
  }

  isFenced(err: unknown): boolean {
    return MongoErrors.MONGO_FENCED.is(err);
  }
}

/** A run's spool on the world's "volume": it outlives the process that wrote it. */
class InMemorySpool implements Spool {
  constructor(
    private readonly world: ConnectorWorld,
    private readonly life: ProcessLife,
    private readonly syncRunId: string,
  ) {}

  private files(): Map<DatasetId, string[]> {
    let files = this.world.spools.get(this.syncRunId);
    if (!files) this.world.spools.set(this.syncRunId, (files = new Map()));
    return files;
  }

  reset(): Promise<void> {
    return this.life.io('spool.reset', () => void this.world.spools.set(this.syncRunId, new Map()));
  }

  remove(): Promise<void> {
    return this.life.io('spool.remove', () => void this.world.spools.delete(this.syncRunId));
  }

  async appendLines(datasetId: DatasetId, lines: Uint8Array): Promise<void> {
    const files = this.files();
    const text = Buffer.from(lines).toString('utf8');
    files.set(datasetId, [...(files.get(datasetId) ?? []), ...text.slice(0, -1).split('\n')]);
  }

  async touch(datasetId: DatasetId): Promise<void> {
    const files = this.files();
    if (!files.has(datasetId)) files.set(datasetId, []);
  }

  async discard(datasetIds: readonly DatasetId[]): Promise<void> {
    for (const id of datasetIds) this.world.spools.get(this.syncRunId)?.delete(id);
  }

  async close(): Promise<void> {}

  async *chunks(
    datasetId: DatasetId,
    chunkRecords: readonly number[],
    opts: { prefix?: boolean } = {},
  ): AsyncGenerator<Buffer> {
    const lines = this.world.spools.get(this.syncRunId)?.get(datasetId);
    if (!lines) throw new Error(`spool of ${datasetId} is gone`);
    let at = 0;
    for (const size of chunkRecords) {
      if (at + size > lines.length) throw new Error(`spool of ${datasetId} is shorter than its chunk plan`);
      yield Buffer.from(
        lines
          .slice(at, at + size)
          .map((line) => `${line}\n`)
          .join(''),
      );
      at += size;
    }
    if (opts.prefix ? at > lines.length : at !== lines.length)
      throw new Error(`spool of ${datasetId} does not match its chunk plan`);
  }
}

export class InMemorySpools implements Spools {
  constructor(
    private readonly world: ConnectorWorld,
    private readonly life: ProcessLife,
  ) {}

  forRun(syncRunId: string): Spool {
    return new InMemorySpool(this.world, this.life, syncRunId);
  }

  removeAllExcept(keepRunIds: readonly string[]): Promise<number> {
    return this.life.io('spool.removeAllExcept', () => {
      let removed = 0;
      for (const id of [...this.world.spools.keys()])
        if (!keepRunIds.includes(id)) removed += Number(this.world.spools.delete(id));
      return removed;
    });
  }
}

/**
 * The school's iSAMS: serves `world.school` dataset by dataset into the spool (one step each, with
 * progress), or cuts the document off after `failAfterDatasets` with a transient iSAMS error. A
 * document whose `documentSha256` is the request's known one ends after its download (one step),
 * with its first dataset spooled (as a body larger than the read-ahead has been, in part).
 */
export class ScriptedBatchSource implements BatchSource {
  constructor(
    private readonly world: ConnectorWorld,
    private readonly life: ProcessLife,
  ) {}

  async fetchToSpool(request: SpoolFetch): Promise<FetchResult | KnownDocumentFetch> {
    const { records, failAfterDatasets, documentSha256 } = this.world.school;
    this.world.fetches.push(request.knownSha256 ?? null);
    const datasets = scriptedDatasets(this.world.school);
    const bytes = datasets.reduce((n, d) => n + d.bytes, 0);
    const fetch: RunFetch = { mode: 'whole', groups: [] };
    if (
      documentSha256 !== undefined &&
      request.knownSha256 === documentSha256 &&
      failAfterDatasets === undefined
    ) {
      // A body larger than the read-ahead is parsed as it arrives: its first dataset is spooled
      // before the last byte shows the body is known.
      const first = datasets[0]!.datasetId;
      await this.life.io('isams.fetch known document', async () => {
        await request.spool.touch(first);
        for (const r of records[first] ?? []) await appendLine(request.spool, first, JSON.stringify(r));
      });
      const repeated = this.world.school.repeatedContainer;
      if (repeated !== undefined) request.onDatasetRead?.(firstContainerOf(this.world.school, repeated));
      return { known: true, sha256: documentSha256, bytes, fetch };
    }
    let done = 0;
    for (const { datasetId } of datasets) {
      if (done === failAfterDatasets)
        throw new IsamsError({ code: 'ISAMS_ERROR_DOCUMENT', message: 'document cut off', transient: true });
      const lines = (records[datasetId] ?? []).map((r) => JSON.stringify(r));
      await this.life.io(`isams.fetch ${datasetId}`, async () => {
        await request.spool.touch(datasetId);
        for (const line of lines) await appendLine(request.spool, datasetId, line);
      });
      // Its container ended: the dataset as read may be published while the rest is fetched.
      if (datasetId === this.world.school.repeatedContainer)
        request.onDatasetRead?.(firstContainerOf(this.world.school, datasetId));
      request.onDatasetRead?.(datasets.find((d) => d.datasetId === datasetId)!);
      done += 1;
      request.onProgress({
        datasetsDone: done,
        recordsFetched: 0,
        bytesFetched: datasets.slice(0, done).reduce((n, d) => n + d.bytes, 0),
      });
    }
    await request.spool.close();
    return {
      datasets,
      absent: DATASET_IDS.filter((d) => records[d] === undefined),
      unknownContainers: [],
      findings:
        this.world.school.repeatedContainer === undefined
          ? []
          : [
              {
                code: FINDING_CODES.DUPLICATE_CONTAINER,
                datasetId: this.world.school.repeatedContainer,
                message: 'The container appears 2 times.',
              },
            ],
      bytes,
      fetch,
      ...(documentSha256 !== undefined ? { documentSha256 } : {}),
    };
  }
}

/** The broker: every event in order, one step per send (so a crash can fall between two chunks). */
export class InMemoryRunPublisher implements RunPublisher {
  constructor(
    private readonly world: ConnectorWorld,
    private readonly life: ProcessLife,
  ) {}

  publishRunUpdate(run: RunRecord): Promise<void> {
    const id = `${run._id}|connector|${run.sequence}`;
    return this.life.io(`broker.runUpdate ${run.status}`, () => {
      this.world.events.push({
        kind: 'run-update',
        id,
        syncRunId: run._id,
        status: run.status,
        sequence: run.sequence,
      });
    });
  }

  async publishChunks(
    run: RunRecord,
    datasets: readonly RunDatasetStats[],
    spool: Spool,
    onPublished: (chunks: readonly RunDatasetStats[]) => void | Promise<void>,
    opts: { prefix?: boolean } = {},
  ): Promise<void> {
    const order = new Map(DATASET_IDS.map((d, i) => [d, i]));
    const sorted = [...datasets].sort((a, b) => order.get(a.datasetId)! - order.get(b.datasetId)!);
    for (const ds of sorted) {
      let chunkIndex = 0;
      for await (const chunk of spool.chunks(ds.datasetId, ds.chunkRecords, opts)) {
        const records = linesOf(chunk);
        const index = chunkIndex++;
        await this.life.io(`broker.chunk ${ds.datasetId}#${index}`, () => {
          this.world.events.push({
            kind: 'chunk',
            id: `${run._id}|${ds.datasetId}|${ds.fingerprint}|${index}`,
            syncRunId: run._id,
            datasetId: ds.datasetId,
            fingerprint: ds.fingerprint,
            chunkIndex: index,
            records,
          });
        });
        await onPublished([ds]);
      }
    }
  }

  publishMarker(run: RunRecord): Promise<void> {
    return this.life.io('broker.marker', () => {
      this.world.events.push({
        kind: 'marker',
        id: `${run._id}|completed`,
        syncRunId: run._id,
        data: markerData(run),
      });
    });
  }
}

class InMemorySettings implements SettingsStore {
  constructor(
    private readonly world: ConnectorWorld,
    private readonly life: ProcessLife,
  ) {}

  get(tenantId: string): Promise<SchoolSettings | null> {
    return this.life.io('settings.get', () => copy(this.world.settings.get(tenantId) ?? null));
  }
}

/** Every port of the sync engine for one process life on `world` (logger and options apart). */
export function inMemoryPorts(
  world: ConnectorWorld,
  life: ProcessLife,
): Omit<SyncEngineDeps, 'logger' | 'observe' | 'onStep'> {
  // A store of one document per school on `map`: each get and put one I/O of this life, on copies.
  const perSchool = <T>(name: string, map: Map<string, T>) => ({
    get: (t: string) => life.io(`${name}.get`, () => copy(map.get(t) ?? null)),
    put: (t: string, value: T) => life.io(`${name}.put`, () => void map.set(t, copy(value))),
  });
  const plans: FetchPlanStore = perSchool('plans', world.plans);
  const freshness: FreshnessStore = {
    // As the repository: moved on only by a run fetched after the one recorded.
    advance: (t, move) =>
      life.io('freshness.advance', () => {
        const known = world.freshness.get(t);
        if (
          !known ||
          fetchedAfter({ ...move, fetchedAt: move.dataAsOf }, { ...known, fetchedAt: known.dataAsOf })
        )
          world.freshness.set(t, copy(move));
      }),
  };
  const snapshots: AppliedSnapshotStore = {
    get: (t) => life.io('snapshots.get', () => copy(world.snapshots.get(t) ?? null)),
    // As the repository: never replaced by the snapshot of a run fetched before the stored one's.
    put: (t, snapshot) =>
      life.io('snapshots.put', () => {
        const stored = world.snapshots.get(t);
        if (stored?.fetchedAt && snapshot.fetchedAt && fetchedAfter(stored, snapshot)) return;
        world.snapshots.set(t, copy(snapshot));
      }),
  };
  const claims: ScheduleClaimStore = {
    claim: (t, dueAt, attempt) =>
      life.io('claims.claim', () => {
        const id = scheduleClaimKey(t, dueAt, attempt);
        if (world.claims.has(id)) return false;
        world.claims.set(id, new Date());
        return true;
      }),
    prune: (before) =>
      life.io('claims.prune', () => {
        for (const [id, at] of world.claims) if (at < before) world.claims.delete(id);
      }),
  };
  const keys: KeyRevealer = { reveal: () => life.io('keys.reveal', () => 'the-school-key') };
  return {
    settings: new InMemorySettings(world, life),
    schedules: new InMemorySchedules(world.schedules, (name, call) => life.io(name, call)),
    runs: new InMemoryRunStore(world, life),
    snapshots,
    claims,
    leases: new InMemoryRunLeases(world, life),
    fetchPlans: plans,
    keys,
    freshness,
    publisher: new InMemoryRunPublisher(world, life),
    source: new ScriptedBatchSource(world, life),
    spools: new InMemorySpools(world, life),
  };
}

/**
 * Engine options for tests that drive the engine themselves (scheduler, queue and sweep), with every
 * progress report written (more steps to crash at).
 */
export function testEngineOptions(leaseTtlMs: number): SyncEngineOptions {
  return {
    owner: 'replica',
    concurrency: 1,
    leaseTtlMs,
    schedulerTickMs: 3_600_000,
    schedulerEnabled: false,
    staleSweepIntervalMs: 3_600_000,
    scheduleJitterMs: 0,
    manualTriggerLimit: 100,
    manualTriggerWindowMs: 3_600_000,
    maxChunkBytes: 1_000_000,
    progressIntervalMs: 0,
    documentReading: 'reading 1',
    egressIps: [],
  };
}

/** A school enrolled in `world` (settings-ports `schoolSettings`), due at `nextRunAt` (null: not scheduled). */
export function enrolSchool(world: ConnectorWorld, tenantId: string, nextRunAt: Date | null): void {
  world.settings.set(tenantId, schoolSettings(tenantId));
  world.schedules.set(tenantId, schoolSchedule(tenantId, nextRunAt));
}

/** Appends one record's line to a spool. */
function appendLine(spool: Spool, datasetId: DatasetId, line: string): Promise<void> {
  return spool.appendLines(datasetId, Buffer.from(`${line}\n`));
}
