import type { Collection, Db, Filter, WithoutId } from 'mongodb';
import { isDuplicateKeyError, withMongoErrors } from '@isams-sync/mongo';

/** The key of a document a school has one of: `_id` is the tenant id. */
export interface SchoolDocument {
  _id: string;
  tenantId: string;
}

/**
 * A collection with one document per school (`_id` = tenant id, `tenantId` repeated for the
 * tenant-scoped filters): read it, or replace it whole (inserted when absent). Driver errors become
 * `MONGO_*` errors naming the collection.
 */
export class SchoolDocuments<D extends SchoolDocument> {
  private readonly coll: Collection<D>;

  constructor(
    db: Db,
    private readonly collection: string,
  ) {
    this.coll = db.collection<D>(collection);
  }

  find(tenantId: string): Promise<D | null> {
    return withMongoErrors({ operation: 'get', collection: this.collection }, async () => {
      const doc = await this.coll.findOne({ _id: tenantId, tenantId } as Filter<D>);
      return doc as D | null;
    });
  }

  /**
   * Replaces the school's document (inserts it when absent). With `onlyIf`, a stored document that
   * does not match it is left as it is: the upsert's insert then meets the school's `_id`, and that
   * duplicate is the answer, not an error.
   */
  replace(tenantId: string, doc: WithoutId<D>, onlyIf?: Filter<D>): Promise<void> {
    return withMongoErrors({ operation: 'put', collection: this.collection }, async () => {
      const filter = { _id: tenantId, tenantId, ...onlyIf } as Filter<D>;
      try {
        await this.coll.replaceOne(filter, doc, { upsert: true });
      } catch (err) {
        if (onlyIf === undefined || !isDuplicateKeyError(err)) throw err;
      }
    });
  }
}
