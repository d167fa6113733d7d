import { randomUUID } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import { sweepExpired, withMongoErrors } from '@isams-sync/mongo';
import type { AddressChangeEntry, AgedRecords, SettingsAuditLog } from '../../use-cases/ports';
import { COLLECTIONS } from './collections';

/** One change of a school's iSAMS address as stored. Never holds a key. */
export interface AddressChangeRecord extends AddressChangeEntry {
  _id: string;
  action: 'isams_address.changed';
  /** `pending` until the settings are saved; `failed` when saving them failed. */
  outcome: 'pending' | 'saved' | 'failed';
}

/** Append-only audit of iSAMS address changes in the connector's database. */
export class SettingsAuditRepository implements SettingsAuditLog, AgedRecords {
  private readonly coll: Collection<AddressChangeRecord>;

  constructor(db: Db) {
    this.coll = db.collection<AddressChangeRecord>(COLLECTIONS.settingsAudit);
  }

  private wrap<R>(operation: string, fn: () => Promise<R>): Promise<R> {
    return withMongoErrors({ operation, collection: COLLECTIONS.settingsAudit }, fn);
  }

  /** Records a change about to be saved; returns its id for {@link settle}. */
  begin(record: AddressChangeEntry): Promise<string> {
    return this.wrap('begin', async () => {
      const _id = randomUUID();
      await this.coll.insertOne({ ...record, _id, action: 'isams_address.changed', outcome: 'pending' });
      return _id;
    });
  }

  settle(tenantId: string, id: string, outcome: 'saved' | 'failed'): Promise<void> {
    return this.wrap('settle', async () => {
      await this.coll.updateOne({ _id: id, tenantId }, { $set: { outcome } });
    });
  }

  /** A school's address changes, newest first. */
  list(tenantId: string, limit: number): Promise<AddressChangeRecord[]> {
    return this.wrap('list', () => this.coll.find({ tenantId }).sort({ at: -1 }).limit(limit).toArray());
  }

  /** Every school's address changes made before `before` (retention: `AUDIT_RETENTION_DAYS`). */
  dropOlderThan(before: Date): Promise<number> {
    return sweepExpired(this.coll, 'at', before);
  }
}
