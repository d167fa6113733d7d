import type { Collection, Db, Filter } from 'mongodb';
import {
  claimStep,
  isDuplicateKeyError,
  readStepClaim,
  toMongoError,
  withMongoErrors,
} from '@isams-sync/mongo';
import type { StepClaimDocument } from '@isams-sync/mongo';
import { recordRunStep, runStep } from '../../domain/run-record';
import type { QueuedRun, RunRecord, RunStep, RunStepPatch, SchoolSlot } from '../../domain/run-record';
import {
  HELD_BATCH_DECISIONS,
  IN_FLIGHT_STATUSES,
  REPORTED_STATUSES,
  TERMINAL_STATUSES,
  takesRosterReport,
} from '../../domain/sync-run';
import type { HeldBatchDecision, RunProgress, RunStatus } from '../../domain/sync-run';
import type {
  RunFence,
  RunHistory,
  RunRetentionStore,
  RunStore,
  SlotClaim,
  StepDecision,
  UnfinishedRun,
} from '../../use-cases/ports';
import { COLLECTIONS } from './collections';

const STEP_FILTER: Record<RunStep, Filter<RunRecord>> = {
  requested: { status: 'requested' },
  fetching: { status: 'fetching' },
  fetched: { status: 'fetched', markerAttemptedAt: { $exists: false } },
  'marker-attempted': { status: 'fetched', markerAttemptedAt: { $exists: true } },
};

export interface ListRunsQuery {
  statuses?: RunStatus[];
  triggerKind?: 'schedule' | 'manual';
  offset: number;
  limit: number;
}

/** A roster report as kept in `run_reports` (once per run and sequence). */
interface KeptReport {
  _id: string;
  tenantId: string;
  syncRunId: string;
  sequence: number;
  set: Partial<RunRecord>;
  keptAt: Date;
}

/** A school's last fetch sequence taken, in `fetch_sequences` (`_id` = tenant id). */
interface FetchSequenceDocument {
  _id: string;
  tenantId: string;
  last: number;
}

/** Writes of {@link RunsRepository.takeReports} at most, each read back. */
const REPORT_PASSES = 5;

/**
 * The connector's runs in MongoDB: `sync_runs`, `active_runs`, `run_queue`, the step claims of
 * `run_steps` and the roster's reports kept in `run_reports`.
 */
export class RunsRepository implements RunStore, RunHistory, RunRetentionStore {
  readonly coll: Collection<RunRecord>;
  readonly active: Collection<SchoolSlot>;
  readonly queue: Collection<QueuedRun>;
  private readonly steps: Collection<StepClaimDocument<RunStepPatch>>;
  private readonly reports: Collection<KeptReport>;
  private readonly fetchSequences: Collection<FetchSequenceDocument>;

  /**
   * `onWrite` hears the id of every run this repository wrote (inserted, stepped, progressed or
   * reported), once the write is done: the live view of a run wakes on it instead of its next poll.
   */
  constructor(
    db: Db,
    private readonly onWrite: (syncRunId: string) => void = () => undefined,
  ) {
    this.coll = db.collection<RunRecord>(COLLECTIONS.runs);
    this.active = db.collection<SchoolSlot>(COLLECTIONS.activeRuns);
    this.queue = db.collection<QueuedRun>(COLLECTIONS.runQueue);
    this.steps = db.collection<StepClaimDocument<RunStepPatch>>(COLLECTIONS.runSteps);
    this.reports = db.collection<KeptReport>(COLLECTIONS.runReports);
    this.fetchSequences = db.collection<FetchSequenceDocument>(COLLECTIONS.fetchSequences);
  }

  private wrap<R>(
    operation: string,
    fn: () => Promise<R>,
    collection: string = COLLECTIONS.runs,
  ): Promise<R> {
    return withMongoErrors({ operation, collection }, fn);
  }

  recordRequested(doc: RunRecord): Promise<void> {
    return this.wrap('recordRequested', async () => {
      await this.coll.insertOne(doc);
      this.onWrite(doc._id);
    });
  }

  /**
   * A run as its decided steps say: a run still recorded in a step whose outcome was already decided
   * (its decider stopped in between) is brought forward first — conditionally on the step, so a late
   * repair never moves a run back. One more read by `_id` for a run the connector is working on.
   */
  get(tenantId: string, id: string): Promise<RunRecord | null> {
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
  async recordStep(
    run: RunRecord,
    set: Partial<RunRecord>,
    inc: { sequence: number } | undefined,
    fence: RunFence | null,
  ): Promise<StepDecision> {
    return recordRunStep(run, set, inc, {
      claim: (step, patch) =>
        this.wrap(
          'recordStep',
          () => claimStep(this.steps, { recordId: run._id, step, patch, fence }),
          COLLECTIONS.runSteps,
        ),
      apply: (step, patch) => this.applyStep(run.tenantId, run._id, step, patch),
      reload: () => this.get(run.tenantId, run._id),
    });
  }

  private applyStep(
    tenantId: string,
    id: string,
    step: RunStep,
    patch: RunStepPatch,
  ): Promise<RunRecord | null> {
    return this.wrap('applyStep', async () => {
      const run = await this.coll.findOneAndUpdate(
        { _id: id, tenantId, ...STEP_FILTER[step] },
        { $set: { ...patch.set, updatedAt: new Date() }, ...(patch.inc ? { $inc: patch.inc } : {}) },
        { returnDocument: 'after' },
      );
      if (run === null) return null;
      this.onWrite(id);
      // The step that records `published` takes the reports kept meanwhile — and puts back any it
      // may have written over (read before the report was applied, written after).
      return step === 'marker-attempted' ? this.takeReports(tenantId, id) : run;
    });
  }

  recordProgress(run: RunRecord, progress: RunProgress): Promise<RunRecord | null> {
    return this.transition(
      run.tenantId,
      run._id,
      [run.status],
      { progress, heartbeatAt: new Date() },
      { sequence: 1 },
    );
  }

  recordRosterReport(
    tenantId: string,
    syncRunId: string,
    sequence: number,
    set: Partial<RunRecord>,
  ): Promise<RunRecord | null> {
    return this.wrap(
      'recordRosterReport',
      async () => {
        try {
          await this.reports.insertOne({
            _id: `${tenantId}|${syncRunId}|${sequence}`,
            tenantId,
            syncRunId,
            sequence,
            set,
            keptAt: new Date(),
          });
        } catch (err) {
          if (!isDuplicateKeyError(err)) throw err;
        }
        return this.takeReports(tenantId, syncRunId);
      },
      COLLECTIONS.runReports,
    );
  }

  decideHeldRuns(tenantId: string, heldBatchId: string, decision: HeldBatchDecision): Promise<RunRecord[]> {
    return this.wrap('decideHeldRuns', async () => {
      const onBatch = { tenantId, heldBatchId, dryRun: false };
      const held = { ...onBatch, status: 'held' as const };
      const runs = await this.coll.find(held, { projection: { _id: 1 } }).toArray();
      for (const { _id } of runs) {
        const { modifiedCount } = await this.coll.updateOne(
          { ...held, _id },
          { $set: { status: decision, rosterStatus: decision, updatedAt: new Date() } },
        );
        if (modifiedCount > 0) this.onWrite(_id);
      }
      return this.coll.find({ ...onBatch, status: decision }).toArray();
    });
  }

  heldBatchDecision(tenantId: string, heldBatchId: string): Promise<HeldBatchDecision | undefined> {
    return this.wrap('heldBatchDecision', async () => {
      const decided = await this.coll.findOne(
        { tenantId, heldBatchId, dryRun: false, status: { $in: [...HELD_BATCH_DECISIONS] } },
        { projection: { status: 1 } },
      );
      return decided === null ? undefined : (decided.status as HeldBatchDecision);
    });
  }

  /**
   * Applies the newest report kept for the run, when the run takes it (domain/sync-run
   * `takesRosterReport`), and reads the run back: on FerretDB an update reads the document and then
   * writes the whole of it, so another write of the run beside this one (a step, another report)
   * can put back what it read. Every writer reads back after its write, so the last to write sees
   * what it left and mends it. The run as it is then.
   */
  private async takeReports(tenantId: string, id: string): Promise<RunRecord | null> {
    for (let pass = 0; ; pass++) {
      const [run, newest] = await Promise.all([
        this.coll.findOne({ _id: id, tenantId }),
        this.reports.find({ syncRunId: id, tenantId }).sort({ sequence: -1 }).limit(1).next(),
      ]);
      if (run === null || newest === null || !takesRosterReport(run, newest.sequence)) return run;
      // Still put back after this many writes: the next write of the run (a later report) mends it.
      if (pass === REPORT_PASSES) return run;
      const updated = await this.coll.findOneAndUpdate(
        {
          _id: id,
          tenantId,
          status: { $in: [...REPORTED_STATUSES] },
          $or: [{ rosterSequence: { $exists: false } }, { rosterSequence: { $lt: newest.sequence } }],
        },
        { $set: { ...newest.set, updatedAt: new Date() } },
        { returnDocument: 'after' },
      );
      if (updated !== null) this.onWrite(id);
    }
  }

  /**
   * Applies `set` when the run is still in one of `from`; returns the updated run or null. For
   * updates within a status (progress); a step the connector decides under its run lease goes
   * through {@link recordStep}, the roster's reports through {@link recordRosterReport}.
   */
  private transition(
    tenantId: string,
    id: string,
    from: readonly RunStatus[],
    set: Partial<RunRecord>,
    inc?: Partial<Record<'sequence', number>>,
  ): Promise<RunRecord | null> {
    return this.wrap('transition', async () => {
      const run = await this.coll.findOneAndUpdate(
        { _id: id, tenantId, status: { $in: [...from] } },
        { $set: { ...set, updatedAt: new Date() }, ...(inc ? { $inc: inc } : {}) },
        { returnDocument: 'after' },
      );
      if (run !== null) this.onWrite(id);
      return run;
    });
  }

  /** The school's newest runs (newest first) in one of `statuses`, at most `limit`. */
  async newest(tenantId: string, statuses: readonly RunStatus[], limit: number): Promise<RunRecord[]> {
    const { runs } = await this.list(tenantId, { statuses: [...statuses], offset: 0, limit });
    return runs;
  }

  async list(tenantId: string, q: ListRunsQuery): Promise<{ runs: RunRecord[]; total: number }> {
    const filter: Filter<RunRecord> = { tenantId };
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

  countManualRequestsSince(tenantId: string, since: Date): Promise<number> {
    return this.wrap('countManualRequestsSince', () =>
      this.coll.countDocuments({ tenantId, 'trigger.kind': 'manual', requestedAt: { $gte: since } }),
    );
  }

  /**
   * Runs not yet finished by the connector, read once at start-up (the only scan of `sync_runs`) to
   * rebuild the queue and the slots' start marks after a crash or an upgrade.
   */
  unfinished(): Promise<UnfinishedRun[]> {
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
  queueRun(doc: QueuedRun): Promise<void> {
    return this.wrap(
      'queueRun',
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
  queuedRuns(limit = 0): Promise<QueuedRun[]> {
    return this.wrap(
      'queuedRuns',
      () => this.queue.find({}).sort({ requestedAt: 1 }).limit(limit).toArray(),
      COLLECTIONS.runQueue,
    );
  }

  dequeueRun(tenantId: string, syncRunId: string): Promise<void> {
    return this.wrap(
      'dequeueRun',
      async () => {
        await this.queue.deleteOne({ _id: syncRunId, tenantId });
      },
      COLLECTIONS.runQueue,
    );
  }

  /**
   * The school's next fetch sequence: one `$inc` of its counter (upserted at 1). On FerretDB two
   * concurrent `$inc`s can return the same number (it reads, then writes: docs/architecture.md
   * decision 5), so uniqueness comes from the caller, not from here: only the run holding the
   * school's slot under a valid fence records its number (the fenced start step), so two numbers
   * recorded for one school never collide; a stalled holder's late `$inc` may repeat one, but its
   * start step loses.
   */
  nextFetchSequence(tenantId: string): Promise<number> {
    return this.wrap(
      'nextFetchSequence',
      async () => {
        const doc = await this.fetchSequences.findOneAndUpdate(
          { _id: tenantId, tenantId },
          { $inc: { last: 1 } },
          { upsert: true, returnDocument: 'after' },
        );
        return doc!.last;
      },
      COLLECTIONS.fetchSequences,
    );
  }

  /** Claims the school's active-run slot; returns the holder's run id when another run holds it. */
  async claimSchoolSlot(tenantId: string, syncRunId: string): Promise<SlotClaim> {
    try {
      await this.active.insertOne({ _id: tenantId, tenantId, syncRunId, claimedAt: new Date() });
      return { claimed: true };
    } catch (err) {
      if (!isDuplicateKeyError(err))
        throw toMongoError(err, { operation: 'claimSchoolSlot', collection: COLLECTIONS.activeRuns });
      const holder = await this.active.findOne({ _id: tenantId, tenantId });
      return { claimed: false, holder: holder?.syncRunId ?? null };
    }
  }

  schoolSlot(tenantId: string): Promise<SchoolSlot | null> {
    return this.wrap('schoolSlot', () => this.active.findOne({ _id: tenantId, tenantId }));
  }

  releaseSchoolSlot(tenantId: string, syncRunId: string): Promise<void> {
    return this.wrap('releaseSchoolSlot', async () => {
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
  schoolSlots(): Promise<SchoolSlot[]> {
    return this.wrap('schoolSlots', () => this.active.find({}).toArray(), COLLECTIONS.activeRuns);
  }

  // ---- retention (use-cases/run-retention) ------------------------------------------------------

  /**
   * Step claims and kept reports dated before `before`, of runs not in flight: the runs in flight are
   * read first (few; by the status index) and left out, so old bookkeeping of a run that never ended
   * cannot hide the rest. A claim of a run that is gone (dropped, or never inserted) goes too.
   * Deleted by `_id`.
   */
  dropEndedBookkeeping(before: Date, limit: number): Promise<number> {
    return this.wrap('dropEndedBookkeeping', async () => {
      const live = (
        await this.coll
          .find({ status: { $in: [...IN_FLIGHT_STATUSES] } }, { projection: { _id: 1 } })
          .toArray()
      ).map((r) => r._id);
      const notLive = live.length > 0 ? { $nin: live } : { $exists: true };
      const steps = await this.steps
        .find({ claimedAt: { $lt: before }, recordId: notLive }, { projection: { _id: 1 } })
        .limit(limit)
        .toArray();
      const reports = await this.reports
        .find({ keptAt: { $lt: before }, syncRunId: notLive }, { projection: { _id: 1 } })
        .limit(limit)
        .toArray();
      let dropped = 0;
      if (steps.length > 0)
        dropped += (await this.steps.deleteMany({ _id: { $in: steps.map((d) => d._id) } })).deletedCount;
      if (reports.length > 0)
        dropped += (await this.reports.deleteMany({ _id: { $in: reports.map((d) => d._id) } })).deletedCount;
      return dropped;
    });
  }

  /** Ended runs requested before `before`, at most `limit`, deleted by `_id`. */
  dropEndedRuns(before: Date, limit: number): Promise<number> {
    return this.wrap('dropEndedRuns', async () => {
      const old = await this.coll
        .find(
          { status: { $in: [...TERMINAL_STATUSES] }, requestedAt: { $lt: before } },
          { projection: { _id: 1 } },
        )
        .limit(limit)
        .toArray();
      if (old.length === 0) return 0;
      return (await this.coll.deleteMany({ _id: { $in: old.map((r) => r._id) } })).deletedCount;
    });
  }
}
