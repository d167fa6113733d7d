import { describe, expect, it, vi } from 'vitest';
import { acquireLease, ensureIndexes, leaseIndexes, releaseLease, renewLease } from '../src/index';
import type { LeaseDocument } from '../src/index';
import { onSeparateConnections, useFreshDatabase } from './support/fresh-database';

describe('leases (integration)', () => {
  const ctx = useFreshDatabase();

  it('of two claimants on separate connections exactly one wins, every round', async () => {
    await onSeparateConnections<LeaseDocument, void>(ctx, 'leases', 2, async ([a, b]) => {
      for (let round = 0; round < 20; round++) {
        const key = `school-${round}`;
        const [la, lb] = await Promise.all([
          acquireLease(a, { key, owner: 'replica-a', ttlMs: 30_000 }),
          acquireLease(b, { key, owner: 'replica-b', ttlMs: 30_000 }),
        ]);
        expect([la, lb].filter((l) => l !== null)).toHaveLength(1);
        const winner = (la ?? lb)!.owner;
        expect((await a.findOne({ key }))?.owner).toBe(winner);
      }
    });
  });

  it('is re-entrant for its owner, refused to others until it expires, then taken over', async () => {
    const coll = ctx.db().collection<LeaseDocument>('leases');
    const t0 = new Date('2025-01-01T00:00:00Z');
    const first = await acquireLease(coll, { key: 'k', owner: 'a', ttlMs: 10_000, now: t0 });
    expect(first).toMatchObject({
      key: 'k',
      owner: 'a',
      generation: 1,
      expiresAt: new Date('2025-01-01T00:00:10Z'),
    });
    expect(await acquireLease(coll, { key: 'k', owner: 'a', ttlMs: 20_000, now: t0 })).toMatchObject({
      owner: 'a',
      generation: 1,
    });
    expect(await acquireLease(coll, { key: 'k', owner: 'a', ttlMs: 10_000, now: t0 })).toMatchObject({
      owner: 'a',
      generation: 1,
    });
    expect(
      await acquireLease(coll, {
        key: 'k',
        owner: 'b',
        ttlMs: 10_000,
        now: new Date('2025-01-01T00:00:09Z'),
      }),
    ).toBeNull();
    const takeover = await acquireLease(coll, {
      key: 'k',
      owner: 'b',
      ttlMs: 10_000,
      now: new Date('2025-01-01T00:00:10Z'),
    });
    expect(takeover).toMatchObject({ owner: 'b', generation: 2 });
    expect(
      await renewLease(coll, { key: 'k', owner: 'a', ttlMs: 10_000, now: new Date('2025-01-01T00:00:11Z') }),
    ).toBeNull();
    const renewed = await renewLease(coll, {
      key: 'k',
      owner: 'b',
      ttlMs: 60_000,
      now: new Date('2025-01-01T00:00:15Z'),
    });
    expect(renewed?.expiresAt).toEqual(new Date('2025-01-01T00:01:15Z'));
    expect(await releaseLease(coll, { key: 'k', owner: 'a' })).toBe(false);
    expect(await releaseLease(coll, { key: 'k', owner: 'b' })).toBe(true);
    expect(
      await renewLease(coll, { key: 'k', owner: 'b', ttlMs: 60_000, now: new Date('2025-01-01T00:00:16Z') }),
    ).toBeNull();
    expect(
      await acquireLease(coll, {
        key: 'k',
        owner: 'a',
        ttlMs: 10_000,
        now: new Date('2025-01-01T00:00:16Z'),
      }),
    ).toMatchObject({ owner: 'a', generation: 3 });
    // The older generations are deleted beside the new holder's work (not awaited by the acquire).
    await vi.waitFor(async () => expect(await coll.countDocuments({ key: 'k' })).toBe(1));
  });

  it('of many claimants racing for an expired lease exactly one takes it over', async () => {
    await onSeparateConnections<LeaseDocument, void>(ctx, 'leases', 4, async (colls) => {
      await ensureIndexes(ctx.db(), [leaseIndexes('leases')]);
      const past = new Date('2025-01-01T00:00:00Z');
      for (let round = 0; round < 10; round++) {
        const key = `school-${round}`;
        await acquireLease(colls[0]!, { key, owner: 'old', ttlMs: 1_000, now: past });
        const results = await Promise.all(
          colls.map((c, i) => acquireLease(c, { key, owner: `replica-${i}`, ttlMs: 30_000 })),
        );
        const winners = results.filter((l) => l !== null);
        expect(winners).toHaveLength(1);
        expect(winners[0]).toMatchObject({ generation: 2 });
      }
    });
  });
});
