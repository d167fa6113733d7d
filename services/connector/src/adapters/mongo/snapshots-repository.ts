import type { Collection, Db } from 'mongodb';
import { isDuplicateKeyError, toMongoError, withMongoErrors } from '@isams-sync/mongo';
import type { AppliedSnapshot } from '../../domain/sync-run';
import { scheduleClaimKey } from '../../domain/schedule';
import type { AppliedSnapshotStore, ScheduleClaimStore } from '../../use-cases/ports';
import { COLLECTIONS } from './collections';

interface AppliedSnapshotDocument extends AppliedSnapshot {
  _id: string;
  tenantId: string;
  appliedAt: Date;
}

interface ScheduleClaimDocument {
  _id: string;
  tenantId: string;
  claimedAt: Date;
}

/** Fingerprints of the last snapshot the roster applied, per school (for the unchanged skip). */
export class AppliedSnapshotsRepository implements AppliedSnapshotStore {
  private readonly coll: Collection<AppliedSnapshotDocument>;
  constructor(db: Db) {
    this.coll = db.collection<AppliedSnapshotDocument>(COLLECTIONS.appliedSnapshots);
  }

  get(tenantId: string): Promise<AppliedSnapshot | null> {
    return withMongoErrors({ operation: 'get', collection: COLLECTIONS.appliedSnapshots }, async () => {
      const doc = await this.coll.findOne({ _id: tenantId, tenantId });
      return doc ? { syncRunId: doc.syncRunId, fingerprints: doc.fingerprints, absent: doc.absent } : null;
    });
  }

  put(tenantId: string, snapshot: AppliedSnapshot, appliedAt: Date): Promise<void> {
    return withMongoErrors({ operation: 'put', collection: COLLECTIONS.appliedSnapshots }, async () => {
      await this.coll.replaceOne(
        { _id: tenantId, tenantId },
        { tenantId, ...snapshot, appliedAt },
        { upsert: true },
      );
    });
  }
}

/**
 * One document per (school, due time): replicas that saw the same due schedule race on its `_id`,
 * and exactly one creates the scheduled run.
 */
export class ScheduleClaimsRepository implements ScheduleClaimStore {
  private readonly coll: Collection<ScheduleClaimDocument>;
  constructor(db: Db) {
    this.coll = db.collection<ScheduleClaimDocument>(COLLECTIONS.scheduleClaims);
  }

  async claim(tenantId: string, dueAt: Date, attempt: number): Promise<boolean> {
    try {
      await this.coll.insertOne({
        _id: scheduleClaimKey(tenantId, dueAt, attempt),
        tenantId,
        claimedAt: new Date(),
      });
      return true;
    } catch (err) {
      if (isDuplicateKeyError(err)) return false;
      throw toMongoError(err, { operation: 'claim', collection: COLLECTIONS.scheduleClaims });
    }
  }

  async prune(before: Date): Promise<void> {
    await this.coll.deleteMany({ claimedAt: { $lt: before } }).catch(() => undefined);
  }
}
