import { ConnectorErrors } from '../domain/connector-errors';
import type { ExclusiveLeases, HeldExclusiveLease } from './ports';

/** Suggested wait when the replica is full: about the length of one connection test. */
export const TEST_RETRY_AFTER_SECONDS = 30;

/** A held test-connection slot; aborted if the school's lease is lost. */
export interface TestSlot {
  readonly signal: AbortSignal;
  release(): Promise<void>;
}

/**
 * Caps connection tests: at most `maxPerReplica` at once in this process
 * (`CONNECTOR_TEST_CAPACITY_EXHAUSTED`), and one per school across all replicas — a lease in the
 * connector's database (`CONNECTOR_TEST_ALREADY_RUNNING`), which a crashed replica's test gives up
 * after the lease TTL.
 */
export class TestConnectionSlots {
  private running = 0;

  constructor(
    private readonly leases: ExclusiveLeases,
    private readonly maxPerReplica: number,
  ) {}

  /** Tests running in this process now. */
  get inUse(): number {
    return this.running;
  }

  async acquire(tenantId: string): Promise<TestSlot> {
    if (this.running >= this.maxPerReplica)
      throw ConnectorErrors.CONNECTOR_TEST_CAPACITY_EXHAUSTED({
        limit: this.maxPerReplica,
        retryAfterSeconds: TEST_RETRY_AFTER_SECONDS,
      });
    this.running += 1;
    let lease: HeldExclusiveLease | null = null;
    try {
      lease = await this.leases.acquire(`test-connection:${tenantId}`);
    } finally {
      if (lease === null) this.running -= 1;
    }
    if (lease === null) throw ConnectorErrors.CONNECTOR_TEST_ALREADY_RUNNING();
    const held = lease;
    let released = false;
    return {
      signal: held.signal,
      release: async () => {
        if (released) return;
        released = true;
        this.running -= 1;
        await held.release();
      },
    };
  }
}
