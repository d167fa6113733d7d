import { expireLease } from '@isams-sync/testing';
import type { Document } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { ensureIndexes, LeaseKeeper, leaseIndexes, mongoLeaseStore } from '../src/index';
import type { HeldLease } from '../src/index';
import { silentLogger, useFreshDatabase } from './support/fresh-database';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The tests that simulate a holder stalled past its lease (the connector's and the roster's lease
 * fencing) stall only the holder's work: its keeper goes on renewing. `expireLease` (libs/testing)
 * is how they expire the lease; here it is checked against a keeper that renews all the time, so
 * that a renewal is in flight whenever the expiry is written.
 */
describe('expireLease (libs/testing) against a keeper that is renewing', () => {
  const ctx = useFreshDatabase();

  it('the expiry stands: the lease stays expired and its keeper sees it lost', async () => {
    const coll = ctx.db().collection<Document>('leases');
    await ensureIndexes(ctx.db(), [leaseIndexes('leases')]);
    const keeper = new LeaseKeeper(mongoLeaseStore(coll as never), {
      owner: 'stalled',
      ttlMs: 60_000,
      renewEveryMs: 2,
      logger: silentLogger(),
    });
    const revived: string[] = [];
    for (let i = 0; i < 15; i++) {
      const key = `school-${i}`;
      const lease: HeldLease | null = await keeper.acquire(key);
      expect(lease).not.toBeNull();
      await sleep(20); // renewals under way
      await expireLease(coll, { key });
      // Any renewal that was in flight has landed by now, and none after the expiry is accepted.
      await sleep(300);
      const doc = await coll.findOne({ key });
      if (doc === null || (doc.expiresAt as Date).getTime() > Date.now()) revived.push(key);
      expect(lease!.lost).toBe(true);
      await lease!.release();
    }
    expect(revived).toEqual([]);
  });

  it('a filter that selects no lease is an error, not a silent no-op', async () => {
    const coll = ctx.db().collection<Document>('leases');
    await expect(expireLease(coll, { key: 'nobody-holds-this' })).rejects.toThrow('no lease matches');
  });
});
