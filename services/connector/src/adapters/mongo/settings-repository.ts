import type { Collection, Db, Filter } from 'mongodb';
import { insertIfAbsent, toMongoError, withMongoErrors } from '@isams-sync/mongo';
import { settingsVersion } from '../../domain/school-settings';
import type { EncryptedKey, SchoolSettings, VersionedSettings } from '../../domain/school-settings';
import type { SettingsRecords, SettingsStore, StoredKeys } from '../../use-cases/ports';
import { COLLECTIONS } from './collections';

/**
 * The claim of one settings version (`_id` = `<tenant>#<version>`): inserted by the one save that
 * stores that version, holding the settings until they are written (then dropped from it).
 */
export interface SettingsVersionClaim {
  _id: string;
  tenantId: string;
  version: number;
  claimedAt: Date;
  settings?: VersionedSettings;
}

/**
 * The schools' settings. A save is a compare-and-set on `version` decided by a unique insert (the
 * claim of the new version in `settings_versions`), because FerretDB 1.24 checks a conditional
 * update's filter before, not atomically with, its write (libs/mongo README): eight concurrent
 * `findOneAndUpdate({version: 1})` all "won" there. The settings document is then replaced on the
 * condition that it is still at the version before (checked when the write arrives: a writer that
 * stalled after its claim cannot put back older settings), and a claim whose settings were never
 * written (the saver stopped) is written by the next save that collides with it.
 */
export class SettingsRepository implements SettingsStore, SettingsRecords, StoredKeys {
  readonly coll: Collection<SchoolSettings>;
  readonly versions: Collection<SettingsVersionClaim>;

  constructor(db: Db) {
    this.coll = db.collection<SchoolSettings>(COLLECTIONS.settings);
    this.versions = db.collection<SettingsVersionClaim>(COLLECTIONS.settingsVersions);
  }

  private wrap<R>(operation: string, fn: () => Promise<R>): Promise<R> {
    return withMongoErrors({ operation, collection: COLLECTIONS.settings }, fn);
  }

  get(tenantId: string): Promise<SchoolSettings | null> {
    return this.wrap('get', () => this.coll.findOne({ _id: tenantId, tenantId }));
  }

  async save(doc: VersionedSettings): Promise<boolean> {
    const claimId = `${doc.tenantId}#${doc.version}`;
    const claimed = await insertIfAbsent(this.versions, {
      _id: claimId,
      tenantId: doc.tenantId,
      version: doc.version,
      claimedAt: new Date(),
      settings: doc,
    });
    if (!claimed) {
      // Another save took this version; if it stopped before writing the settings, write them now.
      await this.finishClaim(claimId);
      return false;
    }
    // The claim is this save's alone, so settings at this version or later include it (the next
    // colliding save may have written them for it).
    const stored = (await this.write(doc)) || settingsVersion(await this.get(doc.tenantId)) >= doc.version;
    // Left behind, the copy is harmless (a later collision finds the settings past it) until dropped.
    await this.dropClaimedSettings(claimId).catch(() => undefined);
    return stored;
  }

  /** Writes a claim's settings if the stored ones are still at the version before it. */
  private async finishClaim(claimId: string): Promise<void> {
    const claim = await this.wrap('finishClaim', () => this.versions.findOne({ _id: claimId }));
    if (!claim?.settings) return;
    await this.write(claim.settings);
    await this.dropClaimedSettings(claimId);
  }

  /** Replaces the settings with `doc` while they are at `doc.version - 1`; true when it did. */
  private write(doc: VersionedSettings): Promise<boolean> {
    if (doc.version === 1) return insertIfAbsent(this.coll, doc);
    const before = doc.version - 1;
    // Settings stored before versions count as version 1.
    const atBefore: Filter<SchoolSettings> =
      before === 1 ? { $or: [{ version: 1 }, { version: { $exists: false } }] } : { version: before };
    return this.wrap('save', async () => {
      const r = await this.coll.replaceOne({ _id: doc._id, tenantId: doc.tenantId, ...atBefore }, doc);
      return r.matchedCount === 1;
    });
  }

  /** A written claim keeps only its version: no second copy of the (encrypted) key stays behind. */
  private dropClaimedSettings(claimId: string): Promise<void> {
    return this.wrap('dropClaimedSettings', async () => {
      await this.versions.updateOne({ _id: claimId }, { $unset: { settings: '' } });
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
