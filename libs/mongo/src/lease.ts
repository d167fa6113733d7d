import type { Collection } from 'mongodb';
import type { CollectionIndexSpec } from './ensure-indexes';
import { isDuplicateKeyError, toMongoError } from './to-mongo-error';

/**
 * One generation of a lease. Every change of holder inserts a new document `_id = "<key>#<generation>"`,
 * so the unique `_id` decides races: it is the only write FerretDB 1.24 performs atomically (its
 * updates are an unisolated read-modify-write — two concurrent conditional `findOneAndUpdate`s on an
 * existing document can both succeed).
 */
export interface LeaseDocument {
  _id: string;
  key: string;
  /** 1, 2, 3… per key; grows on every change of holder: the fencing token of the holder. */
  generation: number;
  owner: string;
  expiresAt: Date;
  acquiredAt: Date;
}

/** A lease held by its owner until `expiresAt`; `generation` is its fencing token. */
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

/** A generation of a key (a fencing token). */
export interface LeaseGeneration {
  key: string;
  generation: number;
}

/** Index for the "latest generation of a key" lookup; pass to {@link ensureIndexes}. */
export function leaseIndexes(collection: string): CollectionIndexSpec {
  return {
    collection,
    indexes: [{ key: { key: 1, generation: -1 }, unique: true, name: 'lease_key_generation_uq' }],
  };
}

/** The `_id` of a generation document. */
export function leaseId(key: string, generation: number): string {
  return `${key}#${generation}`;
}

function toLease(doc: LeaseDocument): Lease {
  return { key: doc.key, owner: doc.owner, expiresAt: doc.expiresAt, generation: doc.generation };
}

async function latest(coll: Collection<LeaseDocument>, key: string): Promise<LeaseDocument | null> {
  return coll.find({ key }).sort({ generation: -1 }).limit(1).next();
}

async function exists(coll: Collection<LeaseDocument>, id: string): Promise<boolean> {
  return (await coll.findOne({ _id: id }, { projection: { _id: 1 } })) !== null;
}

/**
 * True while `generation` is the newest generation of `key`: its document exists and the next one
 * does not. Two reads by `_id` (the one filter FerretDB's SQLite backend pushes down). Generations are
 * consecutive and only ever deleted oldest first, never the newest (see {@link pruneLeases}), so a
 * missing own document means a newer generation exists too.
 */
export async function leaseIsCurrent(
  coll: Collection<LeaseDocument>,
  ref: LeaseGeneration,
): Promise<boolean> {
  try {
    const [next, own] = await Promise.all([
      exists(coll, leaseId(ref.key, ref.generation + 1)),
      exists(coll, leaseId(ref.key, ref.generation)),
    ]);
    return own && !next;
  } catch (err) {
    throw toMongoError(err, { operation: 'leaseIsCurrent', collection: coll.collectionName });
  }
}

/**
 * Moves the expiry of `owner`'s generation `generation` of `key` while it has not expired at `now`,
 * then checks that no newer generation exists. The condition is evaluated when the command arrives
 * (atomically on MongoDB), so a renewal never revives an expired generation; the write may still land
 * on a generation replaced a moment earlier (FerretDB cannot make that atomic) — harmless, only the
 * newest generation counts — and the check after it reports the loss, so a replaced generation is
 * never reported as renewed. Two round trips.
 */
async function extend(
  coll: Collection<LeaseDocument>,
  ref: { key: string; owner: string; generation: number },
  now: Date,
  expiresAt: Date,
): Promise<Lease | null> {
  const updated = await coll.findOneAndUpdate(
    { _id: leaseId(ref.key, ref.generation), owner: ref.owner, expiresAt: { $gt: now } },
    { $set: { expiresAt } },
    { returnDocument: 'after' },
  );
  if (updated === null) return null;
  if (await exists(coll, leaseId(ref.key, ref.generation + 1))) return null;
  return toLease(updated);
}

/**
 * Claims the lease `key` for `owner` when it is free or expired (a new generation), or extends it
 * when `owner` already holds it (same generation). Returns the lease, or `null` when another owner
 * holds an unexpired lease. Of concurrent claimants exactly one wins, on MongoDB and FerretDB alike:
 * each inserts the next generation and all but one collide on `_id`.
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
      return current.owner === request.owner ? await extend(coll, current, now, expiresAt) : null;
    }
    const generation = (current?.generation ?? 0) + 1;
    const doc: LeaseDocument = {
      _id: leaseId(request.key, generation),
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
    // Older generations are history: deleted beside the holder's work, not before it (nothing waits
    // on them — leaseIsCurrent reads this generation and the next, and no delete ever reaches the
    // newest); failing to remove them is harmless, pruneLeases catches what is left.
    void coll.deleteMany({ key: request.key, generation: { $lt: generation } }).catch(() => undefined);
    return toLease(doc);
  } catch (err) {
    throw toMongoError(err, { operation: 'acquireLease', collection: coll.collectionName });
  }
}

/**
 * Extends the lease `owner` holds. Pass the `generation` held (the keeper always does): the renewal
 * then never touches or revives another generation. Returns the lease, or `null` when it was lost —
 * a newer generation exists (taken over), it already expired at `now` (a renewal that comes too late
 * never revives a lease, taken over or not), or it was released. Stop the guarded work on `null`.
 */
export async function renewLease(
  coll: Collection<LeaseDocument>,
  request: LeaseRequest & { generation?: number },
): Promise<Lease | null> {
  const now = request.now ?? new Date();
  const expiresAt = new Date(now.getTime() + request.ttlMs);
  try {
    const generation = request.generation ?? (await latest(coll, request.key))?.generation;
    if (generation === undefined) return null;
    return await extend(coll, { key: request.key, owner: request.owner, generation }, now, expiresAt);
  } catch (err) {
    throw toMongoError(err, { operation: 'renewLease', collection: coll.collectionName });
  }
}

/**
 * Gives the lease up if `owner` holds it (it expires immediately; the generation is kept so the
 * next holder's is higher). A replaced generation is left alone. Returns whether `owner` held it.
 */
export async function releaseLease(
  coll: Collection<LeaseDocument>,
  request: { key: string; owner: string; generation?: number },
): Promise<boolean> {
  try {
    const generation = request.generation ?? (await latest(coll, request.key))?.generation;
    if (generation === undefined) return false;
    const id = leaseId(request.key, generation);
    // Expiring a replaced generation is harmless (only the newest counts) but is not a release.
    if (await exists(coll, leaseId(request.key, generation + 1))) return false;
    const result = await coll.updateOne(
      { _id: id, owner: request.owner },
      { $set: { expiresAt: new Date(0) } },
    );
    return result.matchedCount > 0;
  } catch (err) {
    throw toMongoError(err, { operation: 'releaseLease', collection: coll.collectionName });
  }
}

/**
 * Deletes generations that expired before `before`, per key from the oldest up, stopping at the
 * first one that has not expired and always keeping the newest. Deleting only a prefix keeps
 * {@link leaseIsCurrent} exact (a gap would make an old generation look current again), and keeping
 * the newest stops a claimant from restarting at generation 1 while another inserts n+1.
 * (`acquireLease` already deletes older generations; this catches what its best-effort delete
 * missed.) Returns how many went.
 */
export async function pruneLeases(coll: Collection<LeaseDocument>, before: Date): Promise<number> {
  try {
    const all = await coll
      .find({}, { projection: { _id: 1, key: 1, generation: 1, expiresAt: 1 } })
      .toArray();
    const byKey = new Map<string, LeaseDocument[]>();
    for (const d of all) byKey.set(d.key, [...(byKey.get(d.key) ?? []), d]);
    const stale: string[] = [];
    for (const generations of byKey.values()) {
      generations.sort((a, b) => a.generation - b.generation);
      for (const d of generations.slice(0, -1)) {
        if (!(d.expiresAt < before)) break;
        stale.push(d._id);
      }
    }
    let deleted = 0;
    for (let i = 0; i < stale.length; i += 500)
      deleted += (await coll.deleteMany({ _id: { $in: stale.slice(i, i + 500) } })).deletedCount;
    return deleted;
  } catch (err) {
    throw toMongoError(err, { operation: 'pruneLeases', collection: coll.collectionName });
  }
}
