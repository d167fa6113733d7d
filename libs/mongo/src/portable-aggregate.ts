import type { AbstractCursor, Collection, Document } from 'mongodb';
import { MongoErrors } from './mongo-errors';
import { toMongoError } from './to-mongo-error';

const ALLOWED_STAGES = new Set(['$match', '$group', '$sort', '$limit', '$skip', '$project']);
const ALLOWED_ACCUMULATORS = new Set(['$sum', '$count']);

/**
 * Throws `MONGO_UNSUPPORTED` unless `pipeline` stays inside what both backends compute identically:
 * stages `$match`, `$group`, `$sort`, `$limit`, `$skip`, `$project`, and `$group` with exactly one
 * `$sum`/`$count` accumulator. FerretDB 1.24 returns 0 for every accumulator after the first one
 * in a `$group` (verified), so two sums need two aggregations.
 */
export function assertPortablePipeline(pipeline: readonly Document[]): void {
  for (const stage of pipeline) {
    const names = Object.keys(stage);
    const name = names[0];
    if (names.length !== 1 || name === undefined || !ALLOWED_STAGES.has(name)) {
      throw MongoErrors.MONGO_UNSUPPORTED({ feature: `aggregation stage ${names.join(',')}` });
    }
    if (name !== '$group') continue;
    const accumulators = Object.entries(stage.$group as Document).filter(([field]) => field !== '_id');
    if (accumulators.length !== 1) {
      throw MongoErrors.MONGO_UNSUPPORTED({
        feature: `$group with ${accumulators.length} accumulators (exactly one is portable)`,
      });
    }
    const [, accumulator] = accumulators[0] as [string, unknown];
    const operator = accumulator && typeof accumulator === 'object' ? Object.keys(accumulator)[0] : undefined;
    if (operator === undefined || !ALLOWED_ACCUMULATORS.has(operator)) {
      throw MongoErrors.MONGO_UNSUPPORTED({ feature: `$group accumulator ${String(operator)}` });
    }
  }
}

/** Validates `pipeline` with {@link assertPortablePipeline}, runs it and returns all results. */
export async function portableAggregate<R extends Document = Document>(
  coll: Pick<Collection, 'aggregate' | 'collectionName'>,
  pipeline: Document[],
): Promise<R[]> {
  assertPortablePipeline(pipeline);
  try {
    return await coll.aggregate<R>(pipeline).toArray();
  } catch (err) {
    throw toMongoError(err, { operation: 'aggregate', collection: coll.collectionName });
  }
}

/** Iterates a driver cursor, mapping its errors to AppErrors (see {@link toMongoError}). */
export async function* iterateCursor<T>(
  cursor: AbstractCursor<T>,
  context: { collection?: string } = {},
): AsyncGenerator<T> {
  try {
    for await (const doc of cursor) yield doc;
  } catch (err) {
    throw toMongoError(err, { operation: 'cursor', ...context });
  } finally {
    await cursor.close().catch(() => undefined);
  }
}
