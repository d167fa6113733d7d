import type { Collection } from 'mongodb';
import { acquireLease, leaseIsCurrent, pruneLeases, releaseLease, renewLease } from './lease';
import type { Lease, LeaseDocument, LeaseGeneration, LeaseRequest } from './lease';

/**
 * Where leases live: the port {@link LeaseKeeper} and fences are built on. {@link mongoLeaseStore}
 * is the implementation; tests of code built on it may use an in-memory one with the same rules.
 */
export interface LeaseStore {
  /** A new generation when the key is free or expired; the same one when `owner` holds it; else null. */
  acquire(request: LeaseRequest): Promise<Lease | null>;
  /** Extends exactly `generation`; null when it was replaced, expired at `now` or released. */
  renew(request: LeaseRequest & { generation: number }): Promise<Lease | null>;
  /** Gives `generation` up if `owner` holds it and it is still the newest. */
  release(request: { key: string; owner: string; generation: number }): Promise<boolean>;
  /** True while `generation` is the key's newest generation (no newer fencing token issued). */
  isCurrent(ref: LeaseGeneration): Promise<boolean>;
  /** Deletes expired old generations (oldest first, never a key's newest). */
  prune(before: Date): Promise<number>;
}

/** The lease collection (bootstrap it with `ensureIndexes(db, [leaseIndexes(name)])`) as a {@link LeaseStore}. */
export function mongoLeaseStore(coll: Collection<LeaseDocument>): LeaseStore {
  return {
    acquire: (request) => acquireLease(coll, request),
    renew: (request) => renewLease(coll, request),
    release: (request) => releaseLease(coll, request),
    isCurrent: (ref) => leaseIsCurrent(coll, ref),
    prune: (before) => pruneLeases(coll, before),
  };
}
