import type { Collection, Db, Filter } from 'mongodb';
import { isDuplicateKeyError, toMongoError } from '@isams-sync/mongo';
import type { DatasetId } from '@isams-sync/isams';
import type { RunFetch } from '../../domain/method-groups';
import type { RunDatasetStats, RunError, RunProgress, RunStatus, RunTrigger } from '../../domain/sync-run';
import type { SourceFormat } from '../../domain/settings-rules';
import { COLLECTIONS } from './collections';

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
  /** Per-run sequence of the connector's sync.runs.v1 events. */
  sequence: number;
  /** Replica executing the run, and its last heartbeat. */
  owner?: string;
  heartbeatAt?: Date;
  /** Set just before the run-complete marker is sent: a restart then re-sends it instead of failing. */
  markerAttemptedAt?: Date;
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

  constructor(db: Db) {
    this.coll = db.collection<RunDocument>(COLLECTIONS.runs);
    this.active = db.collection<ActiveRunDocument>(COLLECTIONS.activeRuns);
    this.queue = db.collection<QueuedRunDocument>(COLLECTIONS.runQueue);
  }

  private async wrap<R>(
    operation: string,
    fn: () => Promise<R>,
    collection: string = COLLECTIONS.runs,
  ): Promise<R> {
    try {
      return await fn();
    } catch (err) {
      throw toMongoError(err, { operation, collection });
    }
  }

  insert(doc: RunDocument): Promise<void> {
    return this.wrap('insert', async () => {
      await this.coll.insertOne(doc);
    });
  }

  get(tenantId: string, id: string): Promise<RunDocument | null> {
    return this.wrap('get', () => this.coll.findOne({ _id: id, tenantId }));
  }

  /** Applies `set` when the run is still in one of `from`; returns the updated run or null. */
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

  update(tenantId: string, id: string, set: Partial<RunDocument>): Promise<void> {
    return this.wrap('update', async () => {
      await this.coll.updateOne({ _id: id, tenantId }, { $set: { ...set, updatedAt: new Date() } });
    });
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
