import type { Collection, Db } from 'mongodb';
import { isDuplicateKeyError, toMongoError } from '@isams-sync/mongo';
import type { AppliedSnapshot } from '../../domain/sync-run';
import { scheduleClaimKey } from '../../domain/schedule';
import type { AppliedSnapshotStore, ScheduleClaimStore } from '../../use-cases/ports';
import { COLLECTIONS } from './collections';
import { fetchedNoLaterThan } from './fetch-order';
import { SchoolDocuments } from './school-documents';
import type { SchoolDocument } from './school-documents';

interface AppliedSnapshotDocument extends AppliedSnapshot, SchoolDocument {
  appliedAt: Date;
}

interface ScheduleClaimDocument {
  _id: string;
  tenantId: string;
  claimedAt: Date;
}

/** Fingerprints of the last snapshot the roster applied, per school, and its document's bytes and summary (the unchanged skips). */
export class AppliedSnapshotsRepository implements AppliedSnapshotStore {
  private readonly docs: SchoolDocuments<AppliedSnapshotDocument>;
  constructor(db: Db) {
    this.docs = new SchoolDocuments(db, COLLECTIONS.appliedSnapshots);
  }

  async get(tenantId: string): Promise<AppliedSnapshot | null> {
    const doc = await this.docs.find(tenantId);
    if (!doc) return null;
    const { syncRunId, fetchedAt, fetchSequence, fingerprints, absent, repeatedContainers, document } = doc;
    return {
      syncRunId,
      ...(fetchedAt ? { fetchedAt } : {}),
      ...(fetchSequence === undefined ? {} : { fetchSequence }),
      fingerprints,
      absent,
      ...(repeatedContainers ? { repeatedContainers } : {}),
      ...(document ? { document } : {}),
    };
  }

  /**
   * Replaced only by the snapshot of a run fetched at or after the stored one's (domain/sync-run
   * `fetchedAfter`: by fetch sequence, else by time; or the stored one has no time): otherwise the
   * filter matches nothing, the upsert's insert meets the school's `_id` and the newer snapshot
   * stands (as `DataFreshnessRepository.advance`). Atomic on MongoDB; on FerretDB, whose updates read
   * then write, two puts sent at the same instant can still end with the older.
   */
  put(tenantId: string, snapshot: AppliedSnapshot, appliedAt: Date): Promise<void> {
    const doc = { tenantId, ...snapshot, appliedAt };
    const { fetchedAt, fetchSequence } = snapshot;
    if (fetchedAt === undefined) return this.docs.replace(tenantId, doc);
    return this.docs.replace(
      tenantId,
      doc,
      fetchedNoLaterThan({ fetchedAt, fetchSequence }, 'fetchedAt', true),
    );
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
