import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureIndexes } from '@isams-sync/mongo';
import type { LeaseDocument } from '@isams-sync/mongo';
import { createLogger } from '@isams-sync/logger';
import { createTestDatabase, eventually, expireLease, uniqueName } from '@isams-sync/testing';
import type { TestDatabase } from '@isams-sync/testing';
import { COLLECTIONS, ROSTER_INDEXES } from '../../src/adapters/mongo/roster-store';
import { TenantLeases, processOwnerId } from '../../src/adapters/mongo/tenant-leases';
import type { HeldLease } from '../../src/use-cases/ports';

let db: TestDatabase;
const logger = createLogger({ service: 'roster-test', level: 'silent' });
const leases = (owner: string, ttlMs = 2_000) =>
  new TenantLeases(db.db, { owner, ttlMs, logger, pollMs: 100 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  db = await createTestDatabase('roster_leases');
  await ensureIndexes(db.db, ROSTER_INDEXES);
});
afterAll(async () => db?.drop());

describe('tenant leases (integration)', () => {
  it('owner ids are unique per app, also within one process', () => {
    expect(processOwnerId()).not.toBe(processOwnerId());
    expect(processOwnerId()).toContain(`:${process.pid}:`);
  });

  it('refuses a second owner while the first holds the school (renewed past its ttl), then hands it over', async () => {
    const school = uniqueName('school');
    const a = leases('replica-a');
    const b = leases('replica-b');
    let bRan = false;
    const tryB = () =>
      b.run(school, 0, async () => {
        bRan = true;
      });
    const held = await a.run(school, 0, async (lease) => {
      expect(await tryB()).toEqual({ ran: false });
      // Longer than two ttls: only the renewals keep the lease.
      await sleep(5_000);
      expect(await b.run(school, 500, async () => (bRan = true))).toEqual({ ran: false });
      expect(lease.lost).toBe(false);
      return lease.generation;
    });
    expect(held).toEqual({ ran: true, value: 1 });
    expect(bRan).toBe(false);
    const next = await b.run(school, 0, async (lease) => lease.generation);
    expect(next).toEqual({ ran: true, value: 2 });
  });

  it('a waiting owner gets the school as soon as the holder releases it', async () => {
    const school = uniqueName('school');
    const a = leases('replica-a');
    const b = leases('replica-b');
    let release!: () => void;
    let holding!: () => void;
    const isHolding = new Promise<void>((r) => (holding = r));
    const holder = a.run(school, 0, async () => {
      holding();
      await new Promise<void>((r) => (release = r));
      return 'a done';
    });
    await isHolding;
    const order: string[] = [];
    const waiter = b.run(school, 30_000, async () => {
      order.push('b');
      return 'b done';
    });
    await sleep(300);
    order.push('a releases');
    release();
    expect(await holder).toEqual({ ran: true, value: 'a done' });
    expect(await waiter).toEqual({ ran: true, value: 'b done' });
    expect(order).toEqual(['a releases', 'b']);
  });

  it('a holder whose lease was taken over notices it and stops at the next step', async () => {
    const school = uniqueName('school');
    const a = leases('replica-a', 900);
    const b = leases('replica-b', 60_000);
    const coll = db.db.collection<LeaseDocument>(COLLECTIONS.leases);
    let releaseB!: () => void;
    let bHolding!: () => void;
    const isBHolding = new Promise<void>((r) => (bHolding = r));
    let bHolder: Promise<unknown> | undefined;
    const result = await a.run(school, 0, async (lease: HeldLease) => {
      // The holder stalls (e.g. a long GC pause) past its expiry; another replica takes over.
      // (Written until it stands: a's keeper, not stalled, may have a renewal in flight — expireLease.)
      await expireLease(coll, { key: school });
      bHolder = b.run(school, 0, async () => {
        bHolding();
        await new Promise<void>((r) => (releaseB = r));
      });
      await isBHolding;
      await eventually(() => (lease.lost ? true : undefined), 'the holder to notice', { timeoutMs: 10_000 });
      expect(() => lease.assertHeld()).toThrow(expect.objectContaining({ code: 'ROSTER_TENANT_LEASE_LOST' }));
      return 'a stopped';
    });
    expect(result).toEqual({ ran: true, value: 'a stopped' });
    // a's release did not free b's lease
    expect(await leases('replica-c').run(school, 0, async () => 'c')).toEqual({ ran: false });
    releaseB();
    expect(await bHolder).toEqual({ ran: true, value: undefined });
  });

  it('pruning deletes expired old generations but keeps the newest generation of each school', async () => {
    const coll = db.db.collection<LeaseDocument>(COLLECTIONS.leases);
    const k = uniqueName('k');
    const j = uniqueName('j');
    const old = new Date(Date.now() - 2 * 3_600_000);
    const doc = (key: string, generation: number, expiresAt: Date): LeaseDocument => ({
      _id: `${key}#${generation}`,
      key,
      generation,
      owner: 'gone',
      expiresAt,
      acquiredAt: old,
    });
    // Prune counts every school's expired old generations: the earlier tests' own (a takeover leaves
    // one, expired an hour back by expireLease) go first, so the count below is this test's alone.
    await leases('pruner').prune(new Date(Date.now() - 3_600_000));
    await coll.insertMany([
      doc(k, 1, old),
      doc(k, 2, old),
      doc(k, 3, old),
      doc(j, 1, old),
      doc(j, 2, new Date(Date.now() + 60_000)),
    ]);
    expect(await leases('pruner').prune(new Date(Date.now() - 3_600_000))).toBe(3);
    expect((await coll.find({ key: { $in: [k, j] } }).toArray()).map((d) => d._id).sort()).toEqual(
      [`${j}#2`, `${k}#3`].sort(),
    );
    expect(await leases('next').run(k, 0, async (lease) => lease.generation)).toEqual({
      ran: true,
      value: 4,
    });
  });
});
