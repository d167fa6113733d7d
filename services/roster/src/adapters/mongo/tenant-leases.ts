import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Db } from 'mongodb';
import { LeaseKeeper, MongoErrors, mongoLeaseStore } from '@isams-sync/mongo';
import type { LeaseDocument } from '@isams-sync/mongo';
import type { Logger } from '@isams-sync/logger';
import { RosterErrors } from '../../domain/roster-errors';
import type { HeldLease, TenantLeasing } from '../../use-cases/ports';
import { COLLECTIONS } from './roster-store';

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

/** A refused write or a lost lease, as the roster reports it. */
function asLeaseLost(err: unknown): unknown {
  return MongoErrors.MONGO_FENCED.is(err) || MongoErrors.MONGO_LEASE_LOST.is(err)
    ? RosterErrors.ROSTER_TENANT_LEASE_LOST(undefined, { cause: err })
    : err;
}

/**
 * Cross-replica mutual exclusion per school on the shared `LeaseKeeper` (libs/mongo): a generation
 * document per holder (decided by unique `_id` inserts, the one atomic write FerretDB 1.24 has),
 * renewed every ttl/3 while the task runs, released when it ends. A replica that dies keeps it until
 * it expires. Writes under the lease carry its fence; a refused write (`MONGO_FENCED`) or a lost
 * lease surfaces as `ROSTER_TENANT_LEASE_LOST`.
 */
export class TenantLeases implements TenantLeasing {
  readonly owner: string;
  private readonly keeper: LeaseKeeper;

  constructor(db: Db, options: TenantLeasesOptions) {
    this.owner = options.owner;
    this.keeper = new LeaseKeeper(mongoLeaseStore(db.collection<LeaseDocument>(COLLECTIONS.leases)), {
      owner: options.owner,
      ttlMs: options.ttlMs,
      logger: options.logger,
      ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
      ...(options.clock === undefined ? {} : { clock: options.clock }),
    });
  }

  /**
   * Runs `fn` holding the tenant's lease. When another owner holds it, retries every `pollMs` for up
   * to `waitMs` (0: one attempt) and then returns `{ ran: false }` without running `fn`. The caller
   * must serialise its own tasks per tenant (the keeper hands a tenant out once per process).
   */
  async run<T>(
    tenantId: string,
    waitMs: number,
    fn: (lease: HeldLease) => Promise<T>,
  ): Promise<{ ran: true; value: T } | { ran: false }> {
    const lease = await this.keeper.acquire(tenantId, { waitMs });
    if (lease === null) return { ran: false };
    const held: HeldLease = {
      tenantId,
      generation: lease.token,
      fence: lease.fence,
      get lost() {
        return lease.lost;
      },
      assertHeld() {
        try {
          lease.assertHeld();
        } catch (err) {
          throw asLeaseLost(err);
        }
      },
    };
    try {
      return { ran: true, value: await fn(held) };
    } catch (err) {
      throw asLeaseLost(err);
    } finally {
      await lease.release();
    }
  }

  /**
   * Deletes lease generations that expired before `before`, oldest first and never a school's
   * newest (libs/mongo `pruneLeases`). Returns how many went.
   */
  prune(before: Date): Promise<number> {
    return this.keeper.prune(before);
  }
}
