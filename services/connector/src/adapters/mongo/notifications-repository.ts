import type { Collection, Db } from 'mongodb';
import { isDuplicateKeyError, sweepExpired, toMongoError } from '@isams-sync/mongo';
import { notificationKey } from '../../domain/notifications';
import type { NotificationCondition } from '../../domain/notifications';
import type { AgedRecords, NotificationClaim, NotificationClaims } from '../../use-cases/ports';
import { COLLECTIONS } from './collections';

/** The claim of one e-mail: `_id` = `<tenant>|<condition>|<local day>`, so one per school, condition and day. */
export type NotificationDocument = NotificationClaim;

/** The e-mail claims in `notifications` (a unique insert per key). */
export class NotificationsRepository implements NotificationClaims, AgedRecords {
  private readonly coll: Collection<NotificationDocument>;
  constructor(db: Db) {
    this.coll = db.collection<NotificationDocument>(COLLECTIONS.notifications);
  }

  static key(tenantId: string, condition: NotificationCondition, day: string): string {
    return notificationKey(tenantId, condition, day);
  }

  /** True when this caller won the claim (a unique insert: exactly one replica wins per key). */
  async claim(doc: NotificationDocument): Promise<boolean> {
    try {
      await this.coll.insertOne(doc);
      return true;
    } catch (err) {
      if (isDuplicateKeyError(err)) return false;
      throw toMongoError(err, { operation: 'claim', collection: COLLECTIONS.notifications });
    }
  }

  /** Gives a claim back after the send failed, so a later check can try again the same day. */
  async release(tenantId: string, id: string): Promise<void> {
    try {
      await this.coll.deleteOne({ _id: id, tenantId });
    } catch (err) {
      throw toMongoError(err, { operation: 'release', collection: COLLECTIONS.notifications });
    }
  }

  async markSent(tenantId: string, id: string, sentAt: Date): Promise<void> {
    try {
      await this.coll.updateOne({ _id: id, tenantId }, { $set: { sentAt } });
    } catch (err) {
      throw toMongoError(err, { operation: 'markSent', collection: COLLECTIONS.notifications });
    }
  }

  /** The school's notifications claimed since `since`, newest first. */
  async recent(tenantId: string, since: Date, limit = 50): Promise<NotificationDocument[]> {
    try {
      return await this.coll
        .find({ tenantId, claimedAt: { $gte: since } })
        .sort({ claimedAt: -1, _id: -1 })
        .limit(limit)
        .toArray();
    } catch (err) {
      throw toMongoError(err, { operation: 'recent', collection: COLLECTIONS.notifications });
    }
  }

  /**
   * Every school's claims made before `before` (retention: `RUN_HISTORY_DAYS`; a claim only decides
   * its own local day, so an old one decides nothing).
   */
  dropOlderThan(before: Date): Promise<number> {
    return sweepExpired(this.coll, 'claimedAt', before);
  }
}
