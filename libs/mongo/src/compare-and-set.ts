import type { Collection, Document, Filter, UpdateFilter, WithId } from 'mongodb';
import { MongoErrors } from './mongo-errors';
import { toMongoError } from './to-mongo-error';

/**
 * Optimistic concurrency: applies `update` to the document matching `filter` only while its
 * `version` field equals `expectedVersion`, and increments `version` in the same write. Returns the
 * updated document, or `null` when nothing matched (the document changed since it was read, or does
 * not exist) — re-read and retry in that case. `update` may not touch `version` itself.
 */
export async function compareAndSet<T extends Document & { version: number }>(
  coll: Collection<T>,
  filter: Filter<T>,
  expectedVersion: number,
  update: UpdateFilter<T>,
): Promise<WithId<T> | null> {
  const raw = update as Document;
  for (const [operator, fields] of Object.entries(raw)) {
    if (!operator.startsWith('$')) {
      throw MongoErrors.MONGO_INVALID_ARGUMENT({
        reason: 'compareAndSet needs an update with operators, not a replacement',
      });
    }
    if (fields && typeof fields === 'object' && 'version' in fields) {
      throw MongoErrors.MONGO_INVALID_ARGUMENT({
        reason: `compareAndSet manages version; found it under ${operator}`,
      });
    }
  }
  const versioned = { ...raw, $inc: { ...(raw.$inc as Document | undefined), version: 1 } };
  try {
    return (await (coll as unknown as Collection<Document>).findOneAndUpdate(
      { ...(filter as Document), version: expectedVersion },
      versioned,
      { returnDocument: 'after' },
    )) as WithId<T> | null;
  } catch (err) {
    throw toMongoError(err, { operation: 'compareAndSet', collection: coll.collectionName });
  }
}
