import type { Collection, Document } from 'mongodb';
import { toMongoError } from './to-mongo-error';

/** Options of {@link sweepExpired}. */
export interface SweepExpiredOptions {
  /** Documents deleted per round trip, so one sweep never holds a huge delete. Default 1000. */
  batchSize?: number;
}

/**
 * Deletes every document whose date `field` is before `before` — the application-side replacement
 * for TTL indexes, which FerretDB lacks. Run it periodically (any replica; it is idempotent).
 * Returns the number of documents deleted.
 */
export async function sweepExpired<T extends Document>(
  coll: Collection<T>,
  field: string,
  before: Date,
  options: SweepExpiredOptions = {},
): Promise<number> {
  const batchSize = options.batchSize ?? 1000;
  const target = coll as unknown as Collection<Document>;
  const expired = { [field]: { $lt: before } };
  let deleted = 0;
  try {
    for (;;) {
      const ids = (
        await target
          .find(expired, { projection: { _id: 1 } })
          .limit(batchSize)
          .toArray()
      ).map((d) => d._id);
      if (ids.length === 0) return deleted;
      // Re-check the date so a document renewed in between survives.
      deleted += (await target.deleteMany({ _id: { $in: ids }, ...expired })).deletedCount;
      if (ids.length < batchSize) return deleted;
    }
  } catch (err) {
    throw toMongoError(err, { operation: 'sweepExpired', collection: coll.collectionName });
  }
}
