import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Collection, Db } from 'mongodb';
import { acquireLease, releaseLease, renewLease, toMongoError } from '@isams-sync/mongo';
import type { LeaseDocument } from '@isams-sync/mongo';
import type { Logger } from '@isams-sync/logger';
import { RosterErrors } from '../../domain/roster-errors';
import { COLLECTIONS } from './roster-store';

const LEASES_COLLECTION = COLLECTIONS.leases;

/** The lease a task holds while it runs; `assertHeld` stops work at a step boundary once it is lost. */
export interface HeldLease {
  readonly tenantId: string;
  /** The lease generation (increases on every change of holder). */
  readonly generation: number;
  /** True once a renewal found the lease taken over, or it expired without a successful renewal. */
  readonly lost: boolean;
  /** Throws `ROSTER_TENANT_LEASE_LOST` when {@link lost}. */
  assertHeld(): void;
}

export interface TenantLeasesOptions {
  /** Unique per process (see {@link processOwnerId}). */
  owner: string;
  ttlMs: number;
  logger: Logger;
  /** Poll interval while waiting for a busy lease. Default 500 ms. */
  pollMs?: number;
  /** Wall clock shared with the other replicas (not the service's injectable business clock). */
  clock?: () => number;
}

/** `<hostname>:<pid>:<random>` — distinct for two apps in one process too. */
export function processOwnerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

/**
 * Cross-replica mutual exclusion per school: a lease document per tenant (libs/mongo `acquireLease`,
 * decided by unique `_id` inserts, the one atomic write FerretDB 1.24 has), renewed every ttl/3
 * while the task runs and released when it ends. A replica that dies keeps it until it expires.
 */
export class TenantLeases {
  readonly owner: string;
  private readonly coll: Collection<LeaseDocument>;
  private readonly ttlMs: number;
  private readonly pollMs: number;
  private readonly clock: () => number;
  private readonly logger: Logger;

  constructor(db: Db, options: TenantLeasesOptions) {
    this.coll = db.collection<LeaseDocument>(LEASES_COLLECTION);
    this.owner = options.owner;
    this.ttlMs = options.ttlMs;
    this.pollMs = options.pollMs ?? 500;
    this.clock = options.clock ?? Date.now;
    this.logger = options.logger;
  }

  /**
   * Runs `fn` holding the tenant's lease. When another owner holds it, retries every `pollMs` for up
   * to `waitMs` (0: one attempt) and then returns `{ ran: false }` without running `fn`. The caller
   * must serialise its own tasks per tenant (the lease is re-entrant for its owner).
   */
  async run<T>(
    tenantId: string,
    waitMs: number,
    fn: (lease: HeldLease) => Promise<T>,
  ): Promise<{ ran: true; value: T } | { ran: false }> {
    const deadline = this.clock() + waitMs;
    let lease = await this.tryAcquire(tenantId);
    while (lease === null && this.clock() < deadline) {
      await new Promise((r) => setTimeout(r, Math.min(this.pollMs, Math.max(1, deadline - this.clock()))));
      lease = await this.tryAcquire(tenantId);
    }
    if (lease === null) return { ran: false };
    try {
      return { ran: true, value: await fn(lease.held) };
    } finally {
      await lease.release();
    }
  }

  private async tryAcquire(
    tenantId: string,
  ): Promise<{ held: HeldLease; release: () => Promise<void> } | null> {
    const request = { key: tenantId, owner: this.owner, ttlMs: this.ttlMs };
    const acquired = await acquireLease(this.coll, { ...request, now: new Date(this.clock()) });
    if (acquired === null) return null;
    const log = this.logger.child({ tenantId, leaseGeneration: acquired.generation });
    let expiresAt = acquired.expiresAt.getTime();
    let takenOver = false;
    let stopped = false;
    let renewing: Promise<void> = Promise.resolve();
    const renew = async (): Promise<void> => {
      try {
        const renewed = await renewLease(this.coll, { ...request, now: new Date(this.clock()) });
        if (stopped) return;
        if (renewed === null) {
          takenOver = true;
          log.error('tenant lease lost: another replica may now process this school concurrently');
        } else expiresAt = renewed.expiresAt.getTime();
      } catch (err) {
        log.error({ err }, 'tenant lease renewal failed; retried until it expires');
      }
    };
    const timer = setInterval(
      () => {
        renewing = renewing.then(renew);
      },
      Math.max(1, Math.floor(this.ttlMs / 3)),
    );
    timer.unref();
    const clock = this.clock;
    const held: HeldLease = {
      tenantId,
      generation: acquired.generation,
      get lost() {
        return takenOver || clock() >= expiresAt;
      },
      assertHeld() {
        if (this.lost) throw RosterErrors.ROSTER_TENANT_LEASE_LOST();
      },
    };
    const release = async (): Promise<void> => {
      stopped = true;
      clearInterval(timer);
      await renewing;
      if (takenOver) return;
      // Failing to release is harmless: the lease expires after its ttl.
      await releaseLease(this.coll, request).catch((err: unknown) =>
        log.warn({ err }, 'tenant lease release failed; it expires by itself'),
      );
    };
    return { held, release };
  }

  /**
   * Deletes lease documents that expired before `before`, except the newest generation of each
   * key: removing that one would let the next claimant restart at generation 1 while a concurrent
   * claimant that had read it inserts generation n+1 — two holders. (`acquireLease` already deletes
   * older generations; this catches the ones its best-effort delete missed.) Returns how many went.
   */
  async prune(before: Date): Promise<number> {
    try {
      const all = await this.coll
        .find({}, { projection: { _id: 1, key: 1, generation: 1, expiresAt: 1 } })
        .toArray();
      const newest = new Map<string, number>();
      for (const d of all) newest.set(d.key, Math.max(newest.get(d.key) ?? 0, d.generation));
      const stale = all
        .filter((d) => d.expiresAt < before && d.generation < newest.get(d.key)!)
        .map((d) => d._id);
      if (stale.length === 0) return 0;
      const res = await this.coll.deleteMany({ _id: { $in: stale }, expiresAt: { $lt: before } });
      return res.deletedCount;
    } catch (err) {
      throw toMongoError(err, { operation: 'pruneLeases', collection: LEASES_COLLECTION });
    }
  }
}
