import type { Collection } from 'mongodb';
import type { CollectionIndexSpec } from './ensure-indexes';
import { isDuplicateKeyError, toMongoError } from './to-mongo-error';

/**
 * One generation of a lease. Every takeover inserts a new document `_id = "<key>#<generation>"`,
 * so the unique `_id` decides races: it is the only write FerretDB 1.24 performs atomically
 * (its updates are an unisolated read-modify-write — two concurrent conditional
 * `findOneAndUpdate`s on an existing document can both succeed).
 */
export interface LeaseDocument {
  _id: string;
  key: string;
  /** 1, 2, 3… per key; increases on every change of holder, usable as a fencing token. */
  generation: number;
  owner: string;
  expiresAt: Date;
  acquiredAt: Date;
}

/** A lease held by its owner until `expiresAt`. */
export interface Lease {
  key: string;
  owner: string;
  expiresAt: Date;
  generation: number;
}

/** Arguments of {@link acquireLease} and {@link renewLease}. */
export interface LeaseRequest {
  key: string;
  /** Unique per claimant, e.g. the pod name plus a random suffix. */
  owner: string;
  /** Lease duration; keep it far above the clock skew between replicas. */
  ttlMs: number;
  /** The current time (injectable for tests). Default `new Date()`. */
  now?: Date;
}

/** Index for the "latest generation of a key" lookup; pass to {@link ensureIndexes}. */
export function leaseIndexes(collection: string): CollectionIndexSpec {
  return {
    collection,
    indexes: [{ key: { key: 1, generation: -1 }, unique: true, name: 'lease_key_generation_uq' }],
  };
}

function toLease(doc: LeaseDocument): Lease {
  return { key: doc.key, owner: doc.owner, expiresAt: doc.expiresAt, generation: doc.generation };
}

async function latest(coll: Collection<LeaseDocument>, key: string): Promise<LeaseDocument | null> {
  return coll.find({ key }).sort({ generation: -1 }).limit(1).next();
}

async function extend(
  coll: Collection<LeaseDocument>,
  doc: LeaseDocument,
  expiresAt: Date,
): Promise<Lease | null> {
  // Single writer: only the holder updates its own generation document.
  const updated = await coll.findOneAndUpdate(
    { _id: doc._id, owner: doc.owner },
    { $set: { expiresAt } },
    { returnDocument: 'after' },
  );
  return updated ? toLease(updated) : null;
}

/**
 * Claims the lease `key` for `owner` when it is free or expired, or extends it when `owner` already
 * holds it. Returns the lease, or `null` when another owner holds an unexpired lease. Of concurrent
 * claimants exactly one wins, on MongoDB and FerretDB alike: each inserts the next generation and
 * all but one collide on `_id`.
 */
export async function acquireLease(
  coll: Collection<LeaseDocument>,
  request: LeaseRequest,
): Promise<Lease | null> {
  const now = request.now ?? new Date();
  const expiresAt = new Date(now.getTime() + request.ttlMs);
  try {
    const current = await latest(coll, request.key);
    if (current && current.expiresAt > now) {
      return current.owner === request.owner ? await extend(coll, current, expiresAt) : null;
    }
    const generation = (current?.generation ?? 0) + 1;
    const doc: LeaseDocument = {
      _id: `${request.key}#${generation}`,
      key: request.key,
      generation,
      owner: request.owner,
      expiresAt,
      acquiredAt: now,
    };
    try {
      await coll.insertOne(doc);
    } catch (err) {
      if (isDuplicateKeyError(err)) return null;
      throw err;
    }
    // Older generations are history; failing to remove them is harmless.
    await coll.deleteMany({ key: request.key, generation: { $lt: generation } }).catch(() => undefined);
    return toLease(doc);
  } catch (err) {
    throw toMongoError(err, { operation: 'acquireLease', collection: coll.collectionName });
  }
}

/**
 * Extends a lease `owner` holds and that has not expired at `now`. Returns the lease, or `null`
 * when it was lost (expired, taken over or released) — stop the guarded work and re-acquire.
 */
export async function renewLease(
  coll: Collection<LeaseDocument>,
  request: LeaseRequest,
): Promise<Lease | null> {
  const now = request.now ?? new Date();
  try {
    const current = await latest(coll, request.key);
    if (!current || current.owner !== request.owner || current.expiresAt <= now) return null;
    return await extend(coll, current, new Date(now.getTime() + request.ttlMs));
  } catch (err) {
    throw toMongoError(err, { operation: 'renewLease', collection: coll.collectionName });
  }
}

/**
 * Gives the lease up if `owner` holds it (it expires immediately; the generation is kept so the
 * next holder's is higher). Returns whether `owner` held it.
 */
export async function releaseLease(
  coll: Collection<LeaseDocument>,
  request: { key: string; owner: string },
): Promise<boolean> {
  try {
    const current = await latest(coll, request.key);
    if (!current || current.owner !== request.owner) return false;
    return (await extend(coll, current, new Date(0))) !== null;
  } catch (err) {
    throw toMongoError(err, { operation: 'releaseLease', collection: coll.collectionName });
  }
}
