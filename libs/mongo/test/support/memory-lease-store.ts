import type { Lease, LeaseRequest, LeaseStore } from '../../src/index';

interface Generation {
  owner: string;
  expiresAt: number;
}

/**
 * An in-memory {@link LeaseStore} with the semantics of `mongoLeaseStore` (generations per key,
 * re-entrant for the owner, renewal only of the newest unexpired generation), for unit tests of
 * code built on the port. The real store is covered by the integration tests.
 */
export class MemoryLeaseStore implements LeaseStore {
  private readonly keys = new Map<string, Generation[]>();

  private lease(key: string, generation: number): Lease {
    const g = this.keys.get(key)![generation - 1]!;
    return { key, owner: g.owner, generation, expiresAt: new Date(g.expiresAt) };
  }

  acquire(request: LeaseRequest): Promise<Lease | null> {
    const now = (request.now ?? new Date()).getTime();
    const list = this.keys.get(request.key) ?? [];
    this.keys.set(request.key, list);
    const newest = list.at(-1);
    if (newest && newest.expiresAt > now) {
      if (newest.owner !== request.owner) return Promise.resolve(null);
      newest.expiresAt = now + request.ttlMs;
      return Promise.resolve(this.lease(request.key, list.length));
    }
    list.push({ owner: request.owner, expiresAt: now + request.ttlMs });
    return Promise.resolve(this.lease(request.key, list.length));
  }

  renew(request: LeaseRequest & { generation: number }): Promise<Lease | null> {
    const now = (request.now ?? new Date()).getTime();
    const list = this.keys.get(request.key) ?? [];
    const g = list[request.generation - 1];
    if (!g || list.length !== request.generation || g.owner !== request.owner || g.expiresAt <= now)
      return Promise.resolve(null);
    g.expiresAt = now + request.ttlMs;
    return Promise.resolve(this.lease(request.key, request.generation));
  }

  release(request: { key: string; owner: string; generation: number }): Promise<boolean> {
    const list = this.keys.get(request.key) ?? [];
    const g = list[request.generation - 1];
    if (!g || list.length !== request.generation || g.owner !== request.owner) return Promise.resolve(false);
    g.expiresAt = 0;
    return Promise.resolve(true);
  }

  isCurrent(ref: { key: string; generation: number }): Promise<boolean> {
    return Promise.resolve((this.keys.get(ref.key)?.length ?? 0) === ref.generation);
  }

  prune(): Promise<number> {
    return Promise.resolve(0);
  }

  /** Test helper: the holder stalls past its expiry (its generation expires now). */
  expire(key: string): void {
    const newest = this.keys.get(key)?.at(-1);
    if (newest) newest.expiresAt = 0;
  }
}
