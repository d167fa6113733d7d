import type { Collection, Db } from 'mongodb';
import { toMongoError, withMongoErrors } from '@isams-sync/mongo';
import type { EncryptedKey, SchoolSettings } from '../../domain/school-settings';
import type { SettingsRecords, SettingsStore, StoredKeys } from '../../use-cases/ports';
import { COLLECTIONS } from './collections';

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

  put(doc: SchoolSettings): Promise<void> {
    return this.wrap('put', async () => {
      await this.coll.replaceOne({ _id: doc._id, tenantId: doc.tenantId }, doc, { upsert: true });
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
