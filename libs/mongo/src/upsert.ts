import type { AnyBulkWriteOperation, BulkWriteResult, Collection, Document, Filter } from 'mongodb';
import { MongoBulkWriteError } from 'mongodb';
import { MongoErrors } from './mongo-errors';
import { assertPortableDocument } from './portable-document';
import { duplicateKeyIndexes, isDuplicateKeyError, toMongoError } from './to-mongo-error';

/** Result of {@link upsertById}. */
export interface UpsertByIdResult {
  /** True when no document with this id existed. */
  inserted: boolean;
}

/**
 * Replaces the document with `_id = id` by `doc`, inserting it when absent. A concurrent insert of
 * the same id (E11000 on the upsert) is retried once, after which the replace wins.
 */
export async function upsertById<T extends Document>(
  coll: Collection<T>,
  id: unknown,
  doc: Omit<T, '_id'>,
): Promise<UpsertByIdResult> {
  const replacement = { ...(doc as Document) };
  delete replacement._id;
  assertPortableDocument(replacement);
  const target = coll as unknown as Collection<Document>;
  try {
    const result = await retryOnDuplicateKey(() =>
      target.replaceOne({ _id: id } as Filter<Document>, replacement, { upsert: true }),
    );
    return { inserted: result.upsertedCount > 0 };
  } catch (err) {
    throw toMongoError(err, { operation: 'upsertById', collection: coll.collectionName });
  }
}

/** Options of {@link bulkUpsert}. */
export interface BulkUpsertOptions<T> {
  /** Top-level fields that identify a document (backed by a unique index); all must be set on every doc. */
  keyFields: ReadonlyArray<keyof T & string>;
  /** Documents per `bulkWrite`. Default 500. */
  batchSize?: number;
  /**
   * `set` (default): `updateOne` with `$set` of the given fields — fields not given are kept, and an
   * identical write counts as unchanged on both backends. `replace`: `replaceOne` — fields not given
   * are removed; FerretDB counts an identical replacement as modified.
   */
  mode?: 'set' | 'replace';
}

/** Counts returned by {@link bulkUpsert}. */
export interface BulkUpsertResult {
  inserted: number;
  modified: number;
  unchanged: number;
  /** Chunks that hit a unique-key race and were redone document by document. */
  retriedBatches: number;
}

interface UpsertOperation {
  filter: Document;
  update?: Document;
  replacement?: Document;
}

function buildOperation<T extends Document>(
  doc: T,
  keyFields: ReadonlyArray<string>,
  mode: 'set' | 'replace',
): UpsertOperation {
  const filter: Document = {};
  for (const field of keyFields) {
    const value = doc[field];
    if (value === undefined) {
      throw MongoErrors.MONGO_INVALID_DOCUMENT({ reason: `key field ${field} is missing`, path: field });
    }
    filter[field] = value;
  }
  const { _id, ...rest } = doc as Document;
  assertPortableDocument(rest);
  if (mode === 'replace') return { filter, replacement: rest };
  const update: Document = { $set: rest };
  if (_id !== undefined && !keyFields.includes('_id')) update.$setOnInsert = { _id };
  return { filter, update };
}

function toBulk(op: UpsertOperation): AnyBulkWriteOperation<Document> {
  return op.replacement
    ? { replaceOne: { filter: op.filter, replacement: op.replacement, upsert: true } }
    : { updateOne: { filter: op.filter, update: op.update ?? {}, upsert: true } };
}

interface Counts {
  inserted: number;
  modified: number;
}

function counts(result: Pick<BulkWriteResult, 'upsertedCount' | 'modifiedCount'>): Counts {
  return { inserted: result.upsertedCount, modified: result.modifiedCount };
}

/**
 * Runs an upsert, and once more when it fails with E11000: a concurrent writer inserted the same key
 * first, so the second attempt matches its document and updates it.
 */
async function retryOnDuplicateKey<R>(upsert: () => Promise<R>): Promise<R> {
  try {
    return await upsert();
  } catch (err) {
    if (!isDuplicateKeyError(err)) throw err;
    return upsert();
  }
}

// Each upsert on its own, retried once on E11000 (see retryOnDuplicateKey).
async function upsertOneByOne(target: Collection<Document>, operations: UpsertOperation[]): Promise<Counts> {
  const done: Counts = { inserted: 0, modified: 0 };
  for (const op of operations) {
    const result = await retryOnDuplicateKey(() =>
      op.replacement
        ? target.replaceOne(op.filter, op.replacement, { upsert: true })
        : target.updateOne(op.filter, op.update ?? {}, { upsert: true }),
    );
    done.inserted += result.upsertedCount;
    done.modified += result.modifiedCount;
  }
  return done;
}

/**
 * Idempotently upserts many documents identified by `keyFields`, in chunks of unordered
 * `bulkWrite`s. A chunk failing on a duplicate key (another writer inserted the same key between
 * our match and our insert) is redone document by document, each upsert retried once — the retry
 * matches the document the other writer inserted. A document that still collides (a real conflict
 * on another unique index) throws `MONGO_DUPLICATE_KEY`.
 *
 * Counts are exact without a race. For a redone chunk FerretDB under-reports the first attempt (it
 * also stops an unordered update batch at its first error), so documents it wrote may be counted as
 * unchanged.
 */
export async function bulkUpsert<T extends Document>(
  coll: Collection<T>,
  docs: readonly T[],
  options: BulkUpsertOptions<T>,
): Promise<BulkUpsertResult> {
  const batchSize = options.batchSize ?? 500;
  const mode = options.mode ?? 'set';
  if (options.keyFields.length === 0)
    throw MongoErrors.MONGO_INVALID_ARGUMENT({ reason: 'keyFields is empty' });
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw MongoErrors.MONGO_INVALID_ARGUMENT({ reason: 'batchSize must be ≥ 1' });
  const target = coll as unknown as Collection<Document>;
  const total: BulkUpsertResult = { inserted: 0, modified: 0, unchanged: 0, retriedBatches: 0 };

  for (let start = 0; start < docs.length; start += batchSize) {
    const chunk = docs.slice(start, start + batchSize);
    const operations = chunk.map((doc) => buildOperation(doc, options.keyFields, mode));
    let done: Counts;
    try {
      try {
        done = counts(await target.bulkWrite(operations.map(toBulk), { ordered: false }));
      } catch (err) {
        if (!isDuplicateKeyError(err)) throw err;
        const firstAttempt =
          err instanceof MongoBulkWriteError ? counts(err.result) : { inserted: 0, modified: 0 };
        total.retriedBatches += 1;
        const redo = await upsertOneByOne(target, operations);
        done = {
          inserted: firstAttempt.inserted + redo.inserted,
          modified: firstAttempt.modified + redo.modified,
        };
      }
    } catch (err) {
      throw toMongoError(err, { operation: 'bulkUpsert', collection: coll.collectionName });
    }
    total.inserted += done.inserted;
    total.modified += done.modified;
    total.unchanged += Math.max(0, chunk.length - done.inserted - done.modified);
  }
  return total;
}

/**
 * Inserts `doc` unless a document with the same unique key (usually `_id`) exists. Returns whether
 * it inserted. Use it for de-duplication tables, e.g. processed event ids.
 */
export async function insertIfAbsent<T extends Document>(coll: Collection<T>, doc: T): Promise<boolean> {
  assertPortableDocument(doc);
  try {
    await (coll as unknown as Collection<Document>).insertOne({ ...(doc as Document) });
    return true;
  } catch (err) {
    if (isDuplicateKeyError(err)) return false;
    throw toMongoError(err, { operation: 'insertIfAbsent', collection: coll.collectionName });
  }
}

/**
 * Inserts the documents whose unique key (usually `_id`) is not taken yet, in one unordered
 * `insertMany`; a document already stored is left as it is. Returns the positions in `docs` of the
 * documents that were already there. The bulk form of {@link insertIfAbsent}: one round trip where an
 * upsert per document (`$setOnInsert`) costs FerretDB a read and a write each (docs/roster-model.md).
 */
export async function insertAllAbsent<T extends Document>(
  coll: Collection<T>,
  docs: readonly T[],
): Promise<number[]> {
  if (docs.length === 0) return [];
  for (const doc of docs) assertPortableDocument(doc);
  try {
    await (coll as unknown as Collection<Document>).insertMany(
      docs.map((d) => ({ ...(d as Document) })),
      { ordered: false },
    );
    return [];
  } catch (err) {
    const existing = duplicateKeyIndexes(err);
    if (existing) return existing;
    throw toMongoError(err, { operation: 'insertAllAbsent', collection: coll.collectionName });
  }
}
