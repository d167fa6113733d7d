import type { Collection, Db } from 'mongodb';
import { withMongoErrors } from '@isams-sync/mongo';
import type { SourceFormat } from '../../domain/settings-rules';
import type { EncryptedKey } from '../crypto/key-cipher';
import { COLLECTIONS } from './collections';

/** One school's data-source settings (`_id` = tenant id). */
export interface SettingsDocument {
  _id: string;
  tenantId: string;
  isamsUrl: string;
  format: SourceFormat;
  scheduleMinutes: number;
  enabled: boolean;
  key: EncryptedKey;
  keyLast4: string;
  keyUpdatedAt: Date;
  /** When the scheduler should next run this school; null when disabled. */
  nextRunAt: Date | null;
  /** Consecutive transiently failed runs (back-off); reset by any finished run. */
  consecutiveFailures: number;
  /** IANA time zone of the school; absent in documents stored before it existed (= the default). */
  timeZone?: string;
  /** Who is e-mailed about the school (held removals, failing runs, stale data); absent = nobody. */
  notificationEmails?: string[];
  updatedAt: Date;
  updatedBy: string;
}

export class SettingsRepository {
  readonly coll: Collection<SettingsDocument>;

  constructor(db: Db) {
    this.coll = db.collection<SettingsDocument>(COLLECTIONS.settings);
  }

  private wrap<R>(operation: string, fn: () => Promise<R>): Promise<R> {
    return withMongoErrors({ operation, collection: COLLECTIONS.settings }, fn);
  }

  get(tenantId: string): Promise<SettingsDocument | null> {
    return this.wrap('get', () => this.coll.findOne({ _id: tenantId, tenantId }));
  }

  put(doc: SettingsDocument): Promise<void> {
    return this.wrap('put', async () => {
      await this.coll.replaceOne({ _id: doc._id, tenantId: doc.tenantId }, doc, { upsert: true });
    });
  }

  setSchedule(tenantId: string, nextRunAt: Date | null, consecutiveFailures?: number): Promise<void> {
    return this.wrap('setSchedule', async () => {
      await this.coll.updateOne(
        { _id: tenantId, tenantId },
        { $set: { nextRunAt, ...(consecutiveFailures === undefined ? {} : { consecutiveFailures }) } },
      );
    });
  }

  /**
   * Replaces the stored key with a re-encryption of the same key, only while the settings still hold
   * `previous` for `isamsUrl` (a key or address saved meanwhile wins). True when it was replaced.
   */
  replaceKey(
    tenantId: string,
    expected: { isamsUrl: string; key: EncryptedKey },
    key: EncryptedKey,
  ): Promise<boolean> {
    return this.wrap('replaceKey', async () => {
      const r = await this.coll.updateOne(
        {
          _id: tenantId,
          tenantId,
          isamsUrl: expected.isamsUrl,
          'key.iv': expected.key.iv,
          'key.ciphertext': expected.key.ciphertext,
        },
        { $set: { key } },
      );
      return r.modifiedCount === 1;
    });
  }

  /** Settings whose key is stored without its host binding (legacy). */
  withUnboundKeys(): AsyncIterable<SettingsDocument> {
    return this.coll.find({ 'key.binding': { $exists: false } });
  }

  /** Enabled schools whose next run is due. */
  due(now: Date, limit: number): Promise<SettingsDocument[]> {
    return this.wrap('due', () =>
      this.coll
        .find({ enabled: true, nextRunAt: { $lte: now } })
        .sort({ nextRunAt: 1 })
        .limit(limit)
        .toArray(),
    );
  }

  all(): AsyncIterable<SettingsDocument> {
    return this.coll.find({});
  }
}
