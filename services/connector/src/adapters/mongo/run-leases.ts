import { MongoErrors, fencedWrite } from '@isams-sync/mongo';
import type { LeaseKeeper } from '@isams-sync/mongo';
import type { RunFence, RunLease, RunLeases } from '../../use-cases/ports';

/**
 * The run leases on libs/mongo's {@link LeaseKeeper} (`run_leases`): renewals, the lost-lease
 * signal and fencing tokens; a stale holder's writes are refused with `MONGO_FENCED`.
 */
export class MongoRunLeases implements RunLeases {
  constructor(private readonly keeper: LeaseKeeper) {}

  acquire(key: string): Promise<RunLease | null> {
    return this.keeper.acquire(key);
  }

  prune(before: Date): Promise<number> {
    return this.keeper.prune(before);
  }

  fencedWrite<T>(fence: RunFence, write: () => Promise<T>): Promise<T> {
    return fencedWrite(fence, write);
  }

  isFenced(err: unknown): boolean {
    return MongoErrors.MONGO_FENCED.is(err);
  }
}
