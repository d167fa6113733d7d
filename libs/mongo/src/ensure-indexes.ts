import type { Db, Document } from 'mongodb';
import { MongoErrors } from './mongo-errors';
import { toMongoError } from './to-mongo-error';

/** One index: an ascending/descending key, a mandatory name, optionally unique. Nothing else. */
export interface IndexSpec {
  /** Field paths (dotted paths into nested documents allowed) → 1 or -1, in order. */
  key: Record<string, 1 | -1>;
  /** Stable name; re-running with the same name and definition is a no-op. */
  name: string;
  /** Unique (compound) index. */
  unique?: boolean;
}

/** The indexes of one collection. */
export interface CollectionIndexSpec {
  collection: string;
  indexes: IndexSpec[];
}

/** What {@link ensureIndexes} did. */
export interface EnsureIndexesResult {
  /** Collections created because they did not exist. */
  createdCollections: string[];
  /** `collection.index` names created. */
  createdIndexes: string[];
  /** `collection.index` names that already existed with the same definition. */
  existingIndexes: string[];
}

const ALLOWED_OPTIONS = new Set(['key', 'name', 'unique']);

function validate(collection: string, spec: IndexSpec): void {
  const raw = spec as unknown as Record<string, unknown>;
  for (const option of Object.keys(raw)) {
    if (!ALLOWED_OPTIONS.has(option)) {
      // partialFilterExpression, expireAfterSeconds, collation: NotImplemented on FerretDB; sparse is
      // accepted there but not worth an untested difference.
      throw MongoErrors.MONGO_UNSUPPORTED({
        feature: `index option ${option}`,
        collection,
        index: spec.name,
      });
    }
  }
  if (typeof spec.name !== 'string' || spec.name === '') {
    throw MongoErrors.MONGO_UNSUPPORTED({ feature: 'unnamed index', collection });
  }
  const entries = Object.entries(spec.key ?? {});
  if (entries.length === 0)
    throw MongoErrors.MONGO_UNSUPPORTED({ feature: 'empty index key', collection, index: spec.name });
  for (const [field, direction] of entries) {
    if (direction !== 1 && direction !== -1) {
      // text, 2dsphere, hashed… do not exist on FerretDB 1.24.
      throw MongoErrors.MONGO_UNSUPPORTED({
        feature: `index type ${String(direction)}`,
        collection,
        index: spec.name,
        field,
      });
    }
  }
}

function sameDefinition(existing: Document, spec: IndexSpec): boolean {
  const existingKey = Object.entries(existing.key as Record<string, number>);
  const wantedKey = Object.entries(spec.key);
  return (
    existingKey.length === wantedKey.length &&
    existingKey.every(([f, d], i) => wantedKey[i]?.[0] === f && Number(wantedKey[i]?.[1]) === Number(d)) &&
    Boolean(existing.unique) === Boolean(spec.unique)
  );
}

/**
 * Creates missing collections and indexes at start-up. Idempotent: an index whose name already
 * exists with the same definition is left alone. An index whose name or key exists with another
 * definition fails with `MONGO_INDEX_CONFLICT` (it is never dropped automatically); options outside
 * the portable subset (partial, TTL, text, collation, sparse…) fail with `MONGO_UNSUPPORTED` before
 * anything is created.
 */
export async function ensureIndexes(db: Db, specs: CollectionIndexSpec[]): Promise<EnsureIndexesResult> {
  for (const spec of specs) for (const index of spec.indexes) validate(spec.collection, index);

  const result: EnsureIndexesResult = { createdCollections: [], createdIndexes: [], existingIndexes: [] };
  let existingCollections: Set<string>;
  try {
    existingCollections = new Set(
      (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name),
    );
  } catch (err) {
    throw toMongoError(err, { operation: 'ensureIndexes' });
  }

  for (const spec of specs) {
    const ctx = { operation: 'ensureIndexes', collection: spec.collection };
    if (!existingCollections.has(spec.collection)) {
      try {
        await db.createCollection(spec.collection);
        result.createdCollections.push(spec.collection);
      } catch (err) {
        // NamespaceExists: another replica created it first.
        if (!(typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 48))
          throw toMongoError(err, ctx);
      }
    }
    const collection = db.collection(spec.collection);
    let existing: Document[];
    try {
      existing = await collection.listIndexes().toArray();
    } catch (err) {
      throw toMongoError(err, ctx);
    }
    for (const index of spec.indexes) {
      const label = `${spec.collection}.${index.name}`;
      const sameName = existing.find((e) => e.name === index.name);
      if (sameName) {
        if (!sameDefinition(sameName, index)) {
          throw MongoErrors.MONGO_INDEX_CONFLICT({ collection: spec.collection, index: index.name });
        }
        result.existingIndexes.push(label);
        continue;
      }
      try {
        await collection.createIndex(index.key, {
          name: index.name,
          ...(index.unique ? { unique: true } : {}),
        });
        result.createdIndexes.push(label);
      } catch (err) {
        const mapped = toMongoError(err, ctx);
        if (MongoErrors.MONGO_INDEX_CONFLICT.is(mapped)) {
          throw MongoErrors.MONGO_INDEX_CONFLICT(
            { collection: spec.collection, index: index.name },
            { cause: err },
          );
        }
        throw mapped;
      }
    }
  }
  return result;
}
