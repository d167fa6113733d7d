import type { Collection, Db, Filter } from 'mongodb';
import {
  claimStep,
  isDuplicateKeyError,
  readStepClaim,
  toMongoError,
  withMongoErrors,
} from '@isams-sync/mongo';
import type { Fence, StepClaimDocument } from '@isams-sync/mongo';
import type { DatasetId } from '@isams-sync/isams';
import type { RunFetch } from '../../domain/method-groups';
import type { RunDatasetStats, RunError, RunProgress, RunStatus, RunTrigger } from '../../domain/sync-run';
import type { SourceFormat } from '../../domain/settings-rules';
import { COLLECTIONS } from './collections';
import type { TraceCarrier } from '@isams-sync/telemetry';

export interface RunFinding {
  code: string;
  datasetId: DatasetId;
  recordId?: string;
  path?: string;
  message: string;
}

/** A sync run (`_id` = sync run id). */
export interface RunDocument {
  _id: string;
  tenantId: string;
  status: RunStatus;
  trigger: RunTrigger;
  dryRun: boolean;
  requestedAt: Date;
  fetchStartedAt?: Date;
  fetchedAt?: Date;
  publishedAt?: Date;
  finishedAt?: Date;
  fetchDurationMs?: number;
  publishDurationMs?: number;
  progress: RunProgress;
  datasets: RunDatasetStats[];
  absent: DatasetId[];
  unknownContainers: string[];
  findings: RunFinding[];
  sourceFormat?: SourceFormat;
  /** Whole key or method groups, with each group's outcome (set once the fetch ended or failed). */
  fetch?: RunFetch;
  error?: RunError;
  rosterStatus?: RunStatus;
  rosterSequence?: number;
  rosterCounts?: Record<string, unknown>;
  heldBatchId?: string;
  /** With `held`: only removals held (the rest applied) or the whole run. */
  holdKind?: 'removals' | 'whole_run';
  /** Per-run sequence of the connector's sync.runs.v1 events. */
  sequence: number;
  /** Replica executing the run, and its last heartbeat. */
  owner?: string;
  heartbeatAt?: Date;
  /** Set just before the run-complete marker is sent: a restart then re-sends it instead of failing. */
  markerAttemptedAt?: Date;
  /**
   * W3C trace context of the request that asked for the run (the admin's gRPC call, or the scheduler's
   * root span), when tracing is on: the run's work, started later by the work queue, continues it.
   */
  trace?: TraceCarrier;
  updatedAt: Date;
}

/** The "one run per school" slot: inserting it is atomic, so two requests can't both win. */
export interface ActiveRunDocument {
  _id: string;
  tenantId: string;
  syncRunId: string;
  claimedAt: Date;
  /**
   * Set by the replica about to start the run (before `requested → fetching`): the stale-run sweep
   * reads only these slots' runs, never scanning `sync_runs`.
   */
  startedAt?: Date;
}

/** The work queue: one tiny document per `requested` run (`_id` = sync run id). */
export interface QueuedRunDocument {
  _id: string;
  tenantId: string;
  requestedAt: Date;
}

/**
 * The steps of a run the connector decides (each left once): its status, with `fetched` split at the
 * marker attempt (the run stays `fetched`, but after `markerAttemptedAt` a restart re-sends the marker
 * instead of failing the run, so that is a decision of its own).
 */
export type RunStep = 'requested' | 'fetching' | 'fetched' | 'marker-attempted';

/** The step `run` is in, or null when the connector decides nothing more about it. */
export function runStep(run: Pick<RunDocument, 'status' | 'markerAttemptedAt'>): RunStep | null {
  if (run.status === 'requested' || run.status === 'fetching') return run.status;
  if (run.status === 'fetched') return run.markerAttemptedAt ? 'marker-attempted' : 'fetched';
  return null;
}

const STEP_FILTER: Record<RunStep, Filter<RunDocument>> = {
  requested: { status: 'requested' },
  fetching: { status: 'fetching' },
  fetched: { status: 'fetched', markerAttemptedAt: { $exists: false } },
  'marker-attempted': { status: 'fetched', markerAttemptedAt: { $exists: true } },
};

/** What leaving a step sets on the run (the decided outcome of its step claim). */
export interface RunStepPatch {
  set: Partial<RunDocument>;
  inc?: { sequence: number };
}

export interface ListRunsQuery {
  statuses?: RunStatus[];
  triggerKind?: 'schedule' | 'manual';
  offset: number;
  limit: number;
}

export class RunsRepository {
  readonly coll: Collection<RunDocument>;
  readonly active: Collection<ActiveRunDocument>;
  readonly queue: Collection<QueuedRunDocument>;
  private readonly steps: Collection<StepClaimDocument<RunStepPatch>>;

  constructor(db: Db) {
    this.coll = db.collection<RunDocument>(COLLECTIONS.runs);
    this.active = db.collection<ActiveRunDocument>(COLLECTIONS.activeRuns);
    this.queue = db.collection<QueuedRunDocument>(COLLECTIONS.runQueue);
    this.steps = db.collection<StepClaimDocument<RunStepPatch>>(COLLECTIONS.runSteps);
  }

  private wrap<R>(
    operation: string,
    fn: () => Promise<R>,
    collection: string = COLLECTIONS.runs,
  ): Promise<R> {
    return withMongoErrors({ operation, collection }, fn);
  }

  insert(doc: RunDocument): Promise<void> {
    return this.wrap('insert', async () => {
      await this.coll.insertOne(doc);
    });
  }

  /**
   * A run as its decided steps say: a run still recorded in a step whose outcome was already decided
   * (its decider stopped in between) is brought forward first — conditionally on the step, so a late
   * repair never moves a run back. One more read by `_id` for a run the connector is working on.
   */
  get(tenantId: string, id: string): Promise<RunDocument | null> {
    return this.wrap('get', async () => {
      let run = await this.coll.findOne({ _id: id, tenantId });
      for (let i = 0; run !== null && i < 4; i++) {
        const step = runStep(run);
        if (step === null) break;
        const claim = await readStepClaim(this.steps, id, step);
        if (claim === null) break;
        run =
          (await this.applyStep(tenantId, id, step, claim.patch)) ??
          (await this.coll.findOne({ _id: id, tenantId }));
      }
      return run;
    });
  }

  /**
   * Leaves the run's current step (see {@link runStep}). The outcome is decided once by a step claim
   * (a unique insert: atomic on MongoDB and FerretDB alike) — under the run lease's `fence` when the
   * caller holds one (a stale holder is refused with `MONGO_FENCED`), or `null` for a decision made
   * outside a lease (cancelling a queued run). The decided outcome is then recorded on the run,
   * conditionally on the run still being in that step. `won` says whether this call's outcome is the
   * decided one; otherwise `run` shows the outcome decided before (adopt it).
   */
  async advanceStep(
    run: RunDocument,
    set: Partial<RunDocument>,
    inc: { sequence: number } | undefined,
    fence: Fence | null,
  ): Promise<{ won: boolean; run: RunDocument | null }> {
    const step = runStep(run);
    if (step === null) return { won: false, run };
    const patch: RunStepPatch = inc === undefined ? { set } : { set, inc };
    const { won, claim } = await this.wrap(
      'advanceStep',
      () => claimStep(this.steps, { recordId: run._id, step, patch, fence }),
      COLLECTIONS.runSteps,
    );
    // Won means this patch is the decided one (not an earlier decision of the same holder).
    const ours = won && claim.patch === patch;
    // Records the decided outcome (whoever decided it), only while the run is still in that step:
    // a late write never moves a run back.
    const recorded = await this.applyStep(run.tenantId, run._id, step, claim.patch);
    return { won: ours, run: recorded ?? (await this.get(run.tenantId, run._id)) };
  }

  private applyStep(
    tenantId: string,
    id: string,
    step: RunStep,
    patch: RunStepPatch,
  ): Promise<RunDocument | null> {
    return this.wrap('applyStep', () =>
      this.coll.findOneAndUpdate(
        { _id: id, tenantId, ...STEP_FILTER[step] },
        { $set: { ...patch.set, updatedAt: new Date() }, ...(patch.inc ? { $inc: patch.inc } : {}) },
        { returnDocument: 'after' },
      ),
    );
  }

  /**
   * Applies `set` when the run is still in one of `from`; returns the updated run or null. For
   * updates within a status (progress) and the roster's reports; a step the connector decides under
   * its run lease goes through {@link advanceStep}.
   */
  transition(
    tenantId: string,
    id: string,
    from: readonly RunStatus[],
    set: Partial<RunDocument>,
    inc?: Partial<Record<'sequence', number>>,
  ): Promise<RunDocument | null> {
    return this.wrap('transition', () =>
      this.coll.findOneAndUpdate(
        { _id: id, tenantId, status: { $in: [...from] } },
        { $set: { ...set, updatedAt: new Date() }, ...(inc ? { $inc: inc } : {}) },
        { returnDocument: 'after' },
      ),
    );
  }

  async list(tenantId: string, q: ListRunsQuery): Promise<{ runs: RunDocument[]; total: number }> {
    const filter: Filter<RunDocument> = { tenantId };
    if (q.statuses && q.statuses.length > 0) filter.status = { $in: q.statuses };
    if (q.triggerKind) filter['trigger.kind'] = q.triggerKind;
    return this.wrap('list', async () => {
      const [runs, total] = await Promise.all([
        this.coll.find(filter).sort({ requestedAt: -1, _id: -1 }).skip(q.offset).limit(q.limit).toArray(),
        this.coll.countDocuments(filter),
      ]);
      return { runs, total };
    });
  }

  countManualSince(tenantId: string, since: Date): Promise<number> {
    return this.wrap('countManualSince', () =>
      this.coll.countDocuments({ tenantId, 'trigger.kind': 'manual', requestedAt: { $gte: since } }),
    );
  }

  /**
   * Runs not yet finished by the connector, read once at start-up (the only scan of `sync_runs`) to
   * rebuild the queue and the slots' start marks after a crash or an upgrade.
   */
  unfinished(): Promise<Pick<RunDocument, '_id' | 'tenantId' | 'status' | 'requestedAt'>[]> {
    return this.wrap('unfinished', () =>
      this.coll
        .find(
          { status: { $in: ['requested', 'fetching', 'fetched'] } },
          { projection: { _id: 1, tenantId: 1, status: 1, requestedAt: 1 } },
        )
        .toArray(),
    );
  }

  /** Puts a requested run on the work queue (idempotent). */
  enqueue(doc: QueuedRunDocument): Promise<void> {
    return this.wrap(
      'enqueue',
      async () => {
        try {
          await this.queue.insertOne(doc);
        } catch (err) {
          if (!isDuplicateKeyError(err)) throw err;
        }
      },
      COLLECTIONS.runQueue,
    );
  }

  /** The work queue, oldest first (a small collection: one document per requested run); 0 = all. */
  queued(limit = 0): Promise<QueuedRunDocument[]> {
    return this.wrap(
      'queued',
      () => this.queue.find({}).sort({ requestedAt: 1 }).limit(limit).toArray(),
      COLLECTIONS.runQueue,
    );
  }

  dequeue(tenantId: string, syncRunId: string): Promise<void> {
    return this.wrap(
      'dequeue',
      async () => {
        await this.queue.deleteOne({ _id: syncRunId, tenantId });
      },
      COLLECTIONS.runQueue,
    );
  }

  /** Claims the school's active-run slot; returns the holder's run id when another run holds it. */
  async claimSlot(
    tenantId: string,
    syncRunId: string,
  ): Promise<{ claimed: true } | { claimed: false; holder: string | null }> {
    try {
      await this.active.insertOne({ _id: tenantId, tenantId, syncRunId, claimedAt: new Date() });
      return { claimed: true };
    } catch (err) {
      if (!isDuplicateKeyError(err))
        throw toMongoError(err, { operation: 'claimSlot', collection: COLLECTIONS.activeRuns });
      const holder = await this.active.findOne({ _id: tenantId, tenantId });
      return { claimed: false, holder: holder?.syncRunId ?? null };
    }
  }

  getSlot(tenantId: string): Promise<ActiveRunDocument | null> {
    return this.wrap('getSlot', () => this.active.findOne({ _id: tenantId, tenantId }));
  }

  releaseSlot(tenantId: string, syncRunId: string): Promise<void> {
    return this.wrap('releaseSlot', async () => {
      await this.active.deleteOne({ _id: tenantId, tenantId, syncRunId });
    });
  }

  /** Marks the slot as started (before its run leaves `requested`); false when the run doesn't hold it. */
  markSlotStarted(tenantId: string, syncRunId: string): Promise<boolean> {
    return this.wrap(
      'markSlotStarted',
      async () => {
        const r = await this.active.updateOne(
          { _id: tenantId, tenantId, syncRunId },
          { $set: { startedAt: new Date() } },
        );
        return r.matchedCount > 0;
      },
      COLLECTIONS.activeRuns,
    );
  }

  /** Every slot (one per school with a queued or running run). */
  slots(): Promise<ActiveRunDocument[]> {
    return this.wrap('slots', () => this.active.find({}).toArray(), COLLECTIONS.activeRuns);
  }
}
