import type { Collection, Db, Filter } from 'mongodb';
import { insertIfAbsent, toMongoError, withMongoErrors } from '@isams-sync/mongo';
import type { EncryptedKey, SchoolSettings, VersionedSettings } from '../../domain/school-settings';
import type { SettingsRecords, SettingsStore, StoredKeys } from '../../use-cases/ports';
import { COLLECTIONS } from './collections';

/**
 * The schools' settings. A save is one conditional write on `version`: the first an insert (a
 * duplicate `_id` refuses it), each later one a `replaceOne` that matches only the version before.
 * Atomic on MongoDB; FerretDB 1.24 checks a conditional update's filter before its write (libs/mongo
 * README › compareAndSet), so there two saves sent in the same instant over one version can both be
 * stored, the later winning — a save made from an older version is still refused.
 */
export class SettingsRepository implements SettingsStore, SettingsRecords, StoredKeys {
  readonly coll: Collection<SchoolSettings>;

  constructor(db: Db) {
    this.coll = db.collection<SchoolSettings>(COLLECTIONS.settings);
  }

  private wrap<R>(operation: string, fn: () => Promise<R>): Promise<R> {
    return withMongoErrors({ operation, collection: COLLECTIONS.settings }, fn);
  }

  get(tenantId: string): Promise<SchoolSettings | null> {
    return this.wrap('get', () => this.coll.findOne({ _id: tenantId, tenantId }));
  }

  save(doc: VersionedSettings, keptKey?: EncryptedKey): Promise<boolean> {
    return this.wrap('save', async () => {
      if (doc.version === 1) return insertIfAbsent(this.coll, doc);
      const before = doc.version - 1;
      // Settings stored before versions count as version 1.
      const atBefore: Filter<SchoolSettings> =
        before === 1 ? { $or: [{ version: 1 }, { version: { $exists: false } }] } : { version: before };
      // The key as read, when the save keeps it: a KEK rotation in between re-encrypted it in place.
      const sameKey: Filter<SchoolSettings> =
        keptKey === undefined ? {} : { 'key.iv': keptKey.iv, 'key.ciphertext': keptKey.ciphertext };
      const r = await this.coll.replaceOne(
        { _id: doc._id, tenantId: doc.tenantId, ...atBefore, ...sameKey },
        doc,
      );
      return r.matchedCount === 1;
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
  withUnboundKeys(): AsyncIterable<SchoolSettings> {
    return this.each('withUnboundKeys', this.coll.find({ 'key.binding': { $exists: false } }));
  }

  all(): AsyncIterable<SchoolSettings> {
    return this.each('all', this.coll.find({}));
  }

  /** The documents of `cursor`, a failure of the driver's mapped as the other reads' are (`MONGO_UNAVAILABLE` …). */
  private async *each(
    operation: string,
    cursor: AsyncIterable<SchoolSettings>,
  ): AsyncIterable<SchoolSettings> {
    try {
      for await (const doc of cursor) yield doc;
    } catch (err) {
      throw toMongoError(err, { operation, collection: COLLECTIONS.settings });
    }
  }
}
