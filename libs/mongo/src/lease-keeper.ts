import type { AppError } from '@isams-sync/errors';
import type { Logger } from '@isams-sync/logger';
import { createFence } from './fence';
import type { Fence } from './fence';
import type { Lease } from './lease';
import type { LeaseStore } from './lease-store';
import { MongoErrors } from './mongo-errors';

/** Options of {@link LeaseKeeper}. */
export interface LeaseKeeperOptions {
  /** Unique per process and keeper, e.g. `hostname:pid:random`. */
  owner: string;
  /** Lease duration; keep it far above the clock skew between replicas. */
  ttlMs: number;
  logger: Logger;
  /** Renewal interval. Default `ttlMs / 3`. */
  renewEveryMs?: number;
  /** Poll interval while waiting for a busy lease. Default 500 ms. */
  pollMs?: number;
  /** Wall clock shared with the other replicas (not a service's injectable business clock). Default `Date.now`. */
  clock?: () => number;
}

/** A lease this process holds, kept alive by its {@link LeaseKeeper} until released or lost. */
export interface HeldLease {
  readonly key: string;
  readonly owner: string;
  /** The generation: the fencing token every write under this lease carries. */
  readonly token: number;
  /** Checks the token against the store; give it to every write made under the lease. */
  readonly fence: Fence;
  /**
   * Aborted (reason: `MONGO_LEASE_LOST`) once the lease is lost — a renewal was refused (another
   * holder exists), no renewal succeeded before the expiry, a renewal came back after it — or released.
   */
  readonly signal: AbortSignal;
  /** True once the signal fired or the lease's expiry passed without a successful renewal. */
  readonly lost: boolean;
  /** Throws the signal's reason (`MONGO_LEASE_LOST`) when {@link lost}. */
  assertHeld(): void;
  /** Stops renewing and gives the lease up (unless it was already lost). Idempotent. */
  release(): Promise<void>;
}

/** Options of {@link LeaseKeeper.acquire}. */
export interface AcquireOptions {
  /** How long to keep polling a lease another owner holds; 0 (default) = one attempt. */
  waitMs?: number;
  /** Stops waiting early. */
  signal?: AbortSignal;
}

class KeptLease implements HeldLease {
  readonly fence: Fence;
  private readonly controller = new AbortController();
  private expiresAt: number;
  private renewTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> = Promise.resolve();
  private stopped = false;
  private releasing: Promise<void> | undefined;

  constructor(
    private readonly store: LeaseStore,
    private readonly lease: Lease,
    private readonly options: Required<Pick<LeaseKeeperOptions, 'ttlMs' | 'renewEveryMs' | 'clock'>> & {
      logger: Logger;
    },
    private readonly onEnd: () => void,
  ) {
    this.fence = createFence(store, lease.key, lease.generation);
    this.expiresAt = lease.expiresAt.getTime();
    this.renewTimer = setInterval(() => this.tick(), options.renewEveryMs);
    this.renewTimer.unref();
    this.armExpiry();
  }

  get key(): string {
    return this.lease.key;
  }
  get owner(): string {
    return this.lease.owner;
  }
  get token(): number {
    return this.lease.generation;
  }
  get signal(): AbortSignal {
    return this.controller.signal;
  }
  get lost(): boolean {
    return this.controller.signal.aborted || this.options.clock() >= this.expiresAt;
  }

  assertHeld(): void {
    if (this.controller.signal.aborted) throw this.controller.signal.reason as AppError;
    if (this.lost) {
      this.markLost('expired');
      throw this.controller.signal.reason as AppError;
    }
  }

  release(): Promise<void> {
    this.releasing ??= this.doRelease();
    return this.releasing;
  }

  private async doRelease(): Promise<void> {
    const wasLost = this.lost;
    this.stop();
    await this.renewing;
    if (!this.controller.signal.aborted) this.controller.abort(this.lostError('released'));
    this.onEnd();
    if (wasLost) return;
    // Failing to release is harmless: the lease expires after its ttl.
    await this.store
      .release({ key: this.key, owner: this.owner, generation: this.token })
      .catch((err: unknown) => this.log().warn({ err }, 'lease release failed; it expires by itself'));
  }

  private log(): Logger {
    return this.options.logger.child({ leaseKey: this.key, leaseToken: this.token });
  }

  private lostError(reason: 'refused' | 'expired' | 'late' | 'released'): AppError {
    return MongoErrors.MONGO_LEASE_LOST({ key: this.key, token: this.token, reason });
  }

  private markLost(reason: 'refused' | 'expired' | 'late'): void {
    if (this.controller.signal.aborted) return;
    this.stop();
    this.log().error({ reason }, 'lease lost: another holder may now exist; work under it stops');
    this.controller.abort(this.lostError(reason));
  }

  private stop(): void {
    this.stopped = true;
    clearInterval(this.renewTimer);
    clearTimeout(this.expiryTimer);
  }

  private armExpiry(): void {
    clearTimeout(this.expiryTimer);
    this.expiryTimer = setTimeout(
      () => {
        if (!this.stopped && this.options.clock() >= this.expiresAt) this.markLost('expired');
      },
      Math.max(0, this.expiresAt - this.options.clock()),
    );
    this.expiryTimer.unref();
  }

  private tick(): void {
    if (this.stopped) return;
    // A renewal due after the expiry (the event loop stalled) must not revive the lease.
    if (this.options.clock() >= this.expiresAt) {
      this.markLost('expired');
      return;
    }
    this.renewing = this.renewing.then(() => this.renew());
  }

  private async renew(): Promise<void> {
    if (this.stopped) return;
    const sentAt = this.options.clock();
    if (sentAt >= this.expiresAt) {
      this.markLost('expired');
      return;
    }
    let renewed: Lease | null;
    try {
      renewed = await this.store.renew({
        key: this.key,
        owner: this.owner,
        ttlMs: this.options.ttlMs,
        generation: this.token,
        now: new Date(sentAt),
      });
    } catch (err) {
      this.log().warn({ err }, 'lease renewal failed; retried until the lease expires');
      return;
    }
    if (this.stopped) return;
    if (renewed === null) {
      this.markLost('refused');
      return;
    }
    // Answered after the old expiry: someone may have taken the lease over in between.
    if (this.options.clock() >= this.expiresAt) {
      this.markLost('late');
      return;
    }
    this.expiresAt = renewed.expiresAt.getTime();
    this.armExpiry();
  }
}

/**
 * Keeps leases for one owner (one per process or app): acquires with a bounded wait, renews every
 * `renewEveryMs` (ttl/3) on a timer, signals a lost lease (`HeldLease.signal`), gives every holder
 * its fencing token (`HeldLease.fence`), releases, and prunes expired generations. Both the roster's
 * tenant leases and the connector's run leases are built on it.
 *
 * A key this keeper already holds is not handed out a second time (`acquire` returns null): two
 * holders in one process would share one generation and one release.
 */
export class LeaseKeeper {
  readonly owner: string;
  private readonly held = new Set<string>();
  private readonly ttlMs: number;
  private readonly renewEveryMs: number;
  private readonly pollMs: number;
  private readonly clock: () => number;
  private readonly logger: Logger;

  constructor(
    private readonly store: LeaseStore,
    options: LeaseKeeperOptions,
  ) {
    this.owner = options.owner;
    this.ttlMs = options.ttlMs;
    this.renewEveryMs = Math.max(1, Math.floor(options.renewEveryMs ?? options.ttlMs / 3));
    this.pollMs = options.pollMs ?? 500;
    this.clock = options.clock ?? Date.now;
    this.logger = options.logger;
  }

  /**
   * Acquires `key`, retrying every `pollMs` while another owner holds it, for up to `waitMs`.
   * Returns the held lease (renewed until released or lost), or null when it stayed busy.
   */
  async acquire(key: string, options: AcquireOptions = {}): Promise<HeldLease | null> {
    const deadline = this.clock() + (options.waitMs ?? 0);
    for (;;) {
      if (!this.held.has(key)) {
        const lease = await this.store.acquire({
          key,
          owner: this.owner,
          ttlMs: this.ttlMs,
          now: new Date(this.clock()),
        });
        if (lease !== null && !this.held.has(key)) {
          this.held.add(key);
          return new KeptLease(
            this.store,
            lease,
            { ttlMs: this.ttlMs, renewEveryMs: this.renewEveryMs, clock: this.clock, logger: this.logger },
            () => this.held.delete(key),
          );
        }
      }
      const left = deadline - this.clock();
      if (left <= 0 || options.signal?.aborted) return null;
      await sleep(Math.min(this.pollMs, left), options.signal);
    }
  }

  /**
   * Runs `fn` holding `key` (waiting up to `waitMs` for it) and releases it afterwards. Returns
   * `{ ran: false }` without running `fn` when the key stayed busy.
   */
  async run<T>(
    key: string,
    waitMs: number,
    fn: (lease: HeldLease) => Promise<T>,
  ): Promise<{ ran: true; value: T } | { ran: false }> {
    const lease = await this.acquire(key, { waitMs });
    if (lease === null) return { ran: false };
    try {
      return { ran: true, value: await fn(lease) };
    } finally {
      await lease.release();
    }
  }

  /** Deletes generations that expired before `before` (oldest first; never a key's newest). */
  prune(before: Date): Promise<number> {
    return this.store.prune(before);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
