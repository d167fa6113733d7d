import type {
  Collection,
  CountDocumentsOptions,
  Db,
  DeleteResult,
  Document,
  Filter,
  FindOneAndUpdateOptions,
  FindOptions,
  InsertManyResult,
  InsertOneResult,
  UpdateFilter,
  UpdateOptions,
  UpdateResult,
  WithId,
} from 'mongodb';
import { MongoErrors } from './mongo-errors';
import { iterateCursor, portableAggregate } from './portable-aggregate';
import { assertPortableDocument } from './portable-document';
import { toMongoError } from './to-mongo-error';
import { bulkUpsert, insertAllAbsent } from './upsert';
import type { BulkUpsertOptions, BulkUpsertResult } from './upsert';

/** A document of a tenant-scoped collection. */
export type TenantDocument = Document & { tenantId: string };

/**
 * A collection view bound to one tenant: every filter gets `{ tenantId }`, every inserted or
 * upserted document carries it, and no update may change it. Services use this instead of the raw
 * collection so a query can never see or touch another tenant's documents.
 */
export interface TenantCollection<T extends TenantDocument> {
  readonly tenantId: string;
  /** The underlying collection (for index bootstrapping; bypasses the tenant guard). */
  readonly raw: Collection<T>;
  find(filter?: Filter<T>, options?: FindOptions): Promise<WithId<T>[]>;
  /** Streams the matching documents with mapped errors. */
  iterate(filter?: Filter<T>, options?: FindOptions): AsyncGenerator<WithId<T>>;
  findOne(filter?: Filter<T>, options?: FindOptions): Promise<WithId<T> | null>;
  countDocuments(filter?: Filter<T>, options?: CountDocumentsOptions): Promise<number>;
  distinct(field: string, filter?: Filter<T>): Promise<unknown[]>;
  insertOne(doc: Omit<T, 'tenantId'> & { tenantId?: string }): Promise<InsertOneResult<T>>;
  insertMany(docs: Array<Omit<T, 'tenantId'> & { tenantId?: string }>): Promise<InsertManyResult<T>>;
  /**
   * Inserts the documents not stored yet, in one round trip ({@link insertAllAbsent}): one whose unique
   * key is taken is left as it is. Returns the positions in `docs` of those that were already there.
   */
  insertAbsent(docs: ReadonlyArray<Omit<T, 'tenantId'> & { tenantId?: string }>): Promise<number[]>;
  updateOne(filter: Filter<T>, update: UpdateFilter<T>, options?: UpdateOptions): Promise<UpdateResult<T>>;
  updateMany(filter: Filter<T>, update: UpdateFilter<T>, options?: UpdateOptions): Promise<UpdateResult<T>>;
  findOneAndUpdate(
    filter: Filter<T>,
    update: UpdateFilter<T>,
    options?: FindOneAndUpdateOptions,
  ): Promise<WithId<T> | null>;
  deleteOne(filter: Filter<T>): Promise<DeleteResult>;
  deleteMany(filter: Filter<T>): Promise<DeleteResult>;
  /**
   * Several `updateOne`s in one round trip (unordered `bulkWrite`), each filter scoped and each update
   * guarded like {@link TenantCollection.updateOne}. Returns the summed matched/modified/upserted counts.
   */
  updateEach(
    ops: ReadonlyArray<{ filter: Filter<T>; update: UpdateFilter<T>; upsert?: boolean }>,
  ): Promise<{ matched: number; modified: number; upserted: number }>;
  /** {@link bulkUpsert} with `tenantId` added to every document and to the key fields. */
  bulkUpsert(
    docs: Array<Omit<T, 'tenantId'> & { tenantId?: string }>,
    options: BulkUpsertOptions<T>,
  ): Promise<BulkUpsertResult>;
  /** A portable aggregation (see `assertPortablePipeline`) with a leading `$match: { tenantId }`. */
  aggregate<R extends Document = Document>(pipeline: Document[]): Promise<R[]>;
}

/**
 * Most statements of one `updateEach` write command. FerretDB 1.24 (PostgreSQL backend) stopped
 * answering every client after one `update` command of 200 statements (seen 2026-12-03); 20 at a time
 * works and keeps the round trips few.
 */
const UPDATE_EACH_CHUNK = 20;

/**
 * Most `updateEach` chunks in flight at once, when every statement names its own document by `_id`
 * (no two write the same one, so their order cannot matter; unordered bulk writes promise no order
 * anyway). FerretDB runs a statement as a read and a write per document; on its PostgreSQL backend
 * four chunks of 20 at a time took 200 conditional updates from ~240 ms to ~120–170 ms (2026-12-04).
 */
const UPDATE_EACH_IN_FLIGHT = 4;

/** True when every filter names a document by a scalar `_id` and no two name the same one. */
function distinctIds(filters: readonly Document[]): boolean {
  const ids = new Set<unknown>();
  for (const f of filters) {
    const id: unknown = f._id;
    if (typeof id !== 'string' && typeof id !== 'number') return false;
    if (ids.has(id)) return false;
    ids.add(id);
  }
  return true;
}

/** Builds a {@link TenantCollection} for `tenantId` over `db.collection(name)`. */
export function tenantCollection<T extends TenantDocument>(
  db: Db,
  name: string,
  tenantId: string,
): TenantCollection<T> {
  if (typeof tenantId !== 'string' || tenantId === '') {
    throw MongoErrors.MONGO_INVALID_ARGUMENT({ reason: 'tenantId must be a non-empty string' });
  }
  const raw = db.collection<T>(name);
  const coll = raw as unknown as Collection<Document>;
  const ctx = (operation: string) => ({ operation, collection: name });
  // Spread first, tenantId last: a caller's own tenantId condition can only be overridden, never widen.
  const scoped = (filter: Filter<T> = {}): Filter<Document> => ({ ...(filter as Document), tenantId });
  const stamp = (doc: Document): Document => {
    if (doc.tenantId !== undefined && doc.tenantId !== tenantId) {
      throw MongoErrors.MONGO_TENANT_MISMATCH({ collection: name });
    }
    const stamped = { ...doc, tenantId };
    assertPortableDocument(stamped);
    return stamped;
  };
  const guardUpdate = (update: UpdateFilter<T>): Document => {
    for (const [operator, fields] of Object.entries(update as Document)) {
      if (!operator.startsWith('$'))
        throw MongoErrors.MONGO_INVALID_ARGUMENT({ reason: 'update must use operators' });
      if (operator === '$rename' && Object.values(fields as Document).includes('tenantId')) {
        throw MongoErrors.MONGO_TENANT_MISMATCH({ collection: name });
      }
      if (fields && typeof fields === 'object' && 'tenantId' in fields) {
        if (operator === '$set' || operator === '$setOnInsert') {
          if ((fields as Document).tenantId !== tenantId)
            throw MongoErrors.MONGO_TENANT_MISMATCH({ collection: name });
        } else {
          throw MongoErrors.MONGO_TENANT_MISMATCH({ collection: name });
        }
      }
    }
    return update as Document;
  };
  const wrap = async <R>(operation: string, fn: () => Promise<R>): Promise<R> => {
    try {
      return await fn();
    } catch (err) {
      throw toMongoError(err, ctx(operation));
    }
  };

  return {
    tenantId,
    raw,
    find: (filter, options) =>
      wrap('find', async () => (await coll.find(scoped(filter), options).toArray()) as WithId<T>[]),
    iterate: (filter, options) =>
      iterateCursor(coll.find(scoped(filter), options), { collection: name }) as AsyncGenerator<WithId<T>>,
    findOne: (filter, options) =>
      wrap('findOne', async () => (await coll.findOne(scoped(filter), options)) as WithId<T> | null),
    countDocuments: (filter, options) =>
      wrap('countDocuments', () => coll.countDocuments(scoped(filter), options)),
    distinct: (field, filter) => wrap('distinct', () => coll.distinct(field, scoped(filter))),
    insertOne: (doc) =>
      wrap('insertOne', async () => (await coll.insertOne(stamp(doc))) as InsertOneResult<T>),
    insertMany: (docs) =>
      wrap(
        'insertMany',
        async () => (await coll.insertMany(docs.map(stamp))) as unknown as InsertManyResult<T>,
      ),
    insertAbsent: async (docs) => insertAllAbsent(coll, docs.map(stamp)),
    updateOne: (filter, update, options) =>
      wrap(
        'updateOne',
        async () => (await coll.updateOne(scoped(filter), guardUpdate(update), options)) as UpdateResult<T>,
      ),
    updateMany: (filter, update, options) =>
      wrap(
        'updateMany',
        async () => (await coll.updateMany(scoped(filter), guardUpdate(update), options)) as UpdateResult<T>,
      ),
    findOneAndUpdate: (filter, update, options = {}) =>
      wrap(
        'findOneAndUpdate',
        async () =>
          (await coll.findOneAndUpdate(scoped(filter), guardUpdate(update), {
            ...options,
            includeResultMetadata: false,
          })) as WithId<T> | null,
      ),
    deleteOne: (filter) => wrap('deleteOne', () => coll.deleteOne(scoped(filter))),
    deleteMany: (filter) => wrap('deleteMany', () => coll.deleteMany(scoped(filter))),
    updateEach: async (ops) => {
      if (ops.length === 0) return { matched: 0, modified: 0, upserted: 0 };
      const writes = ops.map((op) => ({
        updateOne: { filter: scoped(op.filter), update: guardUpdate(op.update), upsert: op.upsert ?? false },
      }));
      const chunks: (typeof writes)[] = [];
      for (let i = 0; i < writes.length; i += UPDATE_EACH_CHUNK)
        chunks.push(writes.slice(i, i + UPDATE_EACH_CHUNK));
      const inFlight = distinctIds(writes.map((w) => w.updateOne.filter)) ? UPDATE_EACH_IN_FLIGHT : 1;
      return wrap('updateEach', async () => {
        const total = { matched: 0, modified: 0, upserted: 0 };
        for (let i = 0; i < chunks.length; i += inFlight) {
          const results = await Promise.allSettled(
            chunks.slice(i, i + inFlight).map((chunk) => coll.bulkWrite(chunk, { ordered: false })),
          );
          // All settle before the first failure is thrown: no write of this call is still running.
          for (const r of results) {
            if (r.status === 'rejected') throw r.reason;
            total.matched += r.value.matchedCount;
            total.modified += r.value.modifiedCount;
            total.upserted += r.value.upsertedCount;
          }
        }
        return total;
      });
    },
    bulkUpsert: async (docs, options) => {
      const stamped = docs.map(stamp) as T[];
      const keyFields = options.keyFields.includes('tenantId')
        ? options.keyFields
        : [...options.keyFields, 'tenantId'];
      return bulkUpsert(raw, stamped, { ...options, keyFields });
    },
    aggregate: <R extends Document>(pipeline: Document[]) =>
      portableAggregate<R>(coll, [{ $match: { tenantId } }, ...pipeline]),
  };
}
