import type { Collection, Db, Filter, WithoutId } from 'mongodb';
import { withMongoErrors } from '@isams-sync/mongo';

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

  replace(tenantId: string, doc: WithoutId<D>): Promise<void> {
    return withMongoErrors({ operation: 'put', collection: this.collection }, async () => {
      await this.coll.replaceOne({ _id: tenantId, tenantId } as Filter<D>, doc, { upsert: true });
    });
  }
}
