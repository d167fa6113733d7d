import { setTimeout as sleep } from 'node:timers/promises';
import type { Collection, Document, Filter } from 'mongodb';

/** Options of {@link expireLease}. */
export interface ExpireLeaseOptions {
  /** How long the expiry must stand with no renewal written over it; default 300 ms. */
  readonly settleMs?: number;
  /** Expiries written before giving up; default 20. */
  readonly attempts?: number;
}

/**
 * Expires the lease documents `filter` selects the way a stalled holder lets its lease expire, for
 * tests that simulate a stall past the lease (a long GC pause, a frozen process).
 *
 * A test stalls only the holder's work; its lease keeper goes on renewing, and a renewal in flight
 * when the expiry is written can land over it: FerretDB's `findAndModify` reads the document and then
 * writes it back with the change, not atomically (2026-12-05, local FerretDB/PostgreSQL: 20–23 of
 * 200 renewals sent together with an external expiry revived the lease, whether the expiry was 1 ms
 * or an hour in the past). A revived lease keeps the other replica out for as long as the stalled
 * one's keeper renews it. So the expiry is written again until it has stood for `settleMs` — a
 * renewal sent after it is refused (the lease expired), and that holder's keeper then stops.
 */
export async function expireLease<T extends Document>(
  coll: Collection<T>,
  filter: Filter<T>,
  options: ExpireLeaseOptions = {},
): Promise<void> {
  const settleMs = options.settleMs ?? 300;
  const attempts = options.attempts ?? 20;
  // Only an expiry is written, whatever the lease documents' type.
  const leases = coll as unknown as Collection<Document>;
  const selected = filter as Filter<Document>;
  for (let i = 0; i < attempts; i++) {
    const { matchedCount } = await leases.updateMany(selected, {
      $set: { expiresAt: new Date(Date.now() - 3_600_000) },
    });
    // A filter that selects nothing would leave the test waiting for a takeover that cannot come.
    if (matchedCount === 0) throw new Error(`no lease matches ${JSON.stringify(filter)}`);
    await sleep(settleMs);
    if ((await leases.countDocuments({ $and: [selected, { expiresAt: { $gt: new Date() } }] })) === 0) return;
  }
  throw new Error(`a lease (${JSON.stringify(filter)}) was renewed over each of ${attempts} expiries`);
}
