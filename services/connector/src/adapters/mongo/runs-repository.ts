import type { Collection, Db, Filter } from 'mongodb';
import { isDuplicateKeyError, toMongoError } from '@isams-sync/mongo';
import type { DatasetId } from '@isams-sync/isams';
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

  constructor(db: Db) {
    this.coll = db.collection<RunDocument>(COLLECTIONS.runs);
    this.active = db.collection<ActiveRunDocument>(COLLECTIONS.activeRuns);
  }

  private async wrap<R>(operation: string, fn: () => Promise<R>): Promise<R> {
    try {
      return await fn();
    } catch (err) {
      throw toMongoError(err, { operation, collection: COLLECTIONS.runs });
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

  /** Requested runs of any school, oldest first (the work queue). */
  requested(limit: number): Promise<RunDocument[]> {
    return this.wrap('requested', () =>
      this.coll.find({ status: 'requested' }).sort({ requestedAt: 1 }).limit(limit).toArray(),
    );
  }

  /** Runs the connector was working on whose owner stopped sending heartbeats before `before`. */
  stale(before: Date, limit: number): Promise<RunDocument[]> {
    return this.wrap('stale', () =>
      this.coll
        .find({ status: { $in: ['fetching', 'fetched'] }, heartbeatAt: { $lt: before } })
        .limit(limit)
        .toArray(),
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

  slotsOlderThan(before: Date, limit: number): Promise<ActiveRunDocument[]> {
    return this.wrap('slotsOlderThan', () =>
      this.active
        .find({ claimedAt: { $lt: before } })
        .limit(limit)
        .toArray(),
    );
  }
}
