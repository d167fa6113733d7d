import type { Collection, Document } from 'mongodb';
import { describe, expect, it } from 'vitest';
import {
  acquireLease,
  claimStep,
  createFence,
  ensureIndexes,
  fenceCondition,
  fencedWrite,
  LeaseKeeper,
  leaseIndexes,
  leaseIsCurrent,
  mongoLeaseStore,
  pruneLeases,
  readStepClaim,
  releaseLease,
  renewLease,
} from '../src/index';
import type { Fence, LeaseDocument, StepClaimDocument } from '../src/index';
import { onSeparateConnections, silentLogger, useFreshDatabase } from './support/fresh-database';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const at = (t0: number, ms: number) => new Date(t0 + ms);

/** A collection whose first update (of any kind) runs `hook` just before it is sent. */
function beforeFirstUpdate<T extends Document>(
  coll: Collection<T>,
  hook: () => Promise<void>,
): Collection<T> {
  let fired = false;
  const updates = new Set(['updateOne', 'updateMany', 'findOneAndUpdate', 'replaceOne']);
  return new Proxy(coll, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof prop !== 'string' || !updates.has(prop) || typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        if (!fired) {
          fired = true;
          await hook();
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** A fence whose first check passes and then runs `pause` (the holder stalls right after checking). */
function pausingAfterFirstCheck(fence: Fence, pause: () => Promise<void>): Fence {
  let checked = false;
  return {
    key: fence.key,
    token: fence.token,
    async check() {
      await fence.check();
      if (!checked) {
        checked = true;
        await pause();
      }
    },
  };
}

// One client for every describe in the file (module-level hooks); each test gets a fresh database.
const ctx = useFreshDatabase();
const leases = () => ctx.db().collection<LeaseDocument>('leases');
const store = () => mongoLeaseStore(leases());

describe('lease fencing (integration): a replaced holder can neither renew nor write', () => {
  it('a paused holder wakes after a takeover: its renewal and its write are refused, the new holder’s write stands', async () => {
    const coll = leases();
    const data = ctx.db().collection<{ _id: string; by: string; fence: number }>('data');
    const t0 = Date.now();
    const a = await acquireLease(coll, { key: 'school', owner: 'a', ttlMs: 1_000, now: at(t0, 0) });
    expect(a).toMatchObject({ generation: 1 });
    const fenceA = createFence(store(), 'school', a!.generation);
    await fencedWrite(fenceA, () =>
      data.updateOne({ _id: 'doc' }, { $set: { by: 'a', fence: 1 } }, { upsert: true }),
    );

    // A stalls (GC, blocked event loop); its lease expires and B takes the school over.
    const b = await acquireLease(coll, { key: 'school', owner: 'b', ttlMs: 1_000, now: at(t0, 2_000) });
    expect(b).toMatchObject({ generation: 2 });
    const fenceB = createFence(store(), 'school', b!.generation);
    await fencedWrite(fenceB, () => data.updateOne({ _id: 'doc' }, { $set: { by: 'b', fence: 2 } }));

    // A wakes up believing it still holds generation 1 (its own clock says it has 100 ms left).
    expect(
      await renewLease(coll, { key: 'school', owner: 'a', ttlMs: 1_000, generation: 1, now: at(t0, 900) }),
    ).toBeNull();
    let sent = false;
    await expect(
      fencedWrite(fenceA, async () => {
        sent = true;
        await data.updateOne({ _id: 'doc' }, { $set: { by: 'a', fence: 1 } });
      }),
    ).rejects.toMatchObject({ code: 'MONGO_FENCED', details: { key: 'school', token: 1 } });
    expect(sent).toBe(false);
    expect(await data.findOne({ _id: 'doc' })).toEqual({ _id: 'doc', by: 'b', fence: 2 });
    expect(await leaseIsCurrent(coll, { key: 'school', generation: 1 })).toBe(false);
    expect(await leaseIsCurrent(coll, { key: 'school', generation: 2 })).toBe(true);
  });

  it('a write already past its check when the lease changed hands is refused by a fence condition, and reported by the check after it', async () => {
    const coll = leases();
    const data = ctx.db().collection<{ _id: string; by: string; fence: number }>('data');
    const t0 = Date.now();
    const a = await acquireLease(coll, { key: 'k', owner: 'a', ttlMs: 1_000, now: at(t0, 0) });
    await data.insertOne({ _id: 'doc', by: 'a', fence: a!.generation });
    const takeover = async () => {
      const b = await acquireLease(coll, { key: 'k', owner: 'b', ttlMs: 1_000, now: at(t0, 2_000) });
      await data.updateOne({ _id: 'doc' }, { $set: { by: 'b', fence: b!.generation } });
    };
    const fenceA = pausingAfterFirstCheck(createFence(store(), 'k', a!.generation), takeover);
    // Conditional on the fence: the database itself refuses the stale write (nothing matches).
    await expect(
      fencedWrite(fenceA, async () => {
        const r = await data.updateOne(
          { _id: 'doc', ...fenceCondition(fenceA) },
          { $set: { by: 'a', fence: fenceA.token } },
        );
        expect(r.matchedCount).toBe(0);
      }),
    ).rejects.toMatchObject({ code: 'MONGO_FENCED', details: { afterWrite: true } });
    expect(await data.findOne({ _id: 'doc' })).toMatchObject({ by: 'b', fence: 2 });
  });

  it('renewal never extends a generation another replica replaced, even when the takeover lands between its read and its write', async () => {
    const coll = leases();
    const t0 = Date.now();
    await acquireLease(coll, { key: 'k', owner: 'a', ttlMs: 1_000, now: at(t0, 0) });
    // B (whose clock is ahead) inserted generation 2 after A's renewal read generation 1.
    const racing = beforeFirstUpdate(coll, async () => {
      await coll.insertOne({
        _id: 'k#2',
        key: 'k',
        generation: 2,
        owner: 'b',
        expiresAt: at(t0, 2_500),
        acquiredAt: at(t0, 1_500),
      });
    });
    expect(
      await renewLease(racing, { key: 'k', owner: 'a', ttlMs: 1_000, generation: 1, now: at(t0, 900) }),
    ).toBeNull();
    expect(await leaseIsCurrent(coll, { key: 'k', generation: 1 })).toBe(false);
    // B's generation is untouched and renewable by B only.
    expect(
      await renewLease(coll, { key: 'k', owner: 'a', ttlMs: 1_000, generation: 2, now: at(t0, 1_600) }),
    ).toBeNull();
    expect(
      await renewLease(coll, { key: 'k', owner: 'b', ttlMs: 1_000, generation: 2, now: at(t0, 1_600) }),
    ).toMatchObject({ owner: 'b', generation: 2, expiresAt: at(t0, 2_600) });
    // A renewal that comes after the lease expired never revives it, taken over or not.
    await acquireLease(coll, { key: 'j', owner: 'a', ttlMs: 1_000, now: at(t0, 0) });
    expect(
      await renewLease(coll, { key: 'j', owner: 'a', ttlMs: 1_000, generation: 1, now: at(t0, 1_000) }),
    ).toBeNull();
    // Releasing a replaced generation leaves the new holder's lease alone.
    expect(await releaseLease(coll, { key: 'k', owner: 'a', generation: 1 })).toBe(false);
    expect(await leaseIsCurrent(coll, { key: 'k', generation: 2 })).toBe(true);
  });
});

describe('lease fencing (integration): many concurrent holders', () => {
  it('many concurrent acquirers on separate connections: at most one live holder at a time, each token issued once, the store’s writes in token order, paused holders’ late writes refused', async () => {
    await ensureIndexes(ctx.db(), [leaseIndexes('leases')]);
    await onSeparateConnections<LeaseDocument, void>(ctx, 'leases', 4, async (colls) => {
      const log = ctx.db().collection<{ _id: string; tokens: number[]; fence?: number }>('log');
      const key = 'school';
      const ttlMs = 1_500;
      const target = 20;
      const granted: number[] = [];
      const abandoned: Fence[] = [];
      const live = new Set<{ lost: boolean }>();
      let maxLive = 0;
      const hold = (holder: { lost: boolean }, token: number) => {
        granted.push(token);
        for (const h of live) if (h.lost) live.delete(h);
        // An answer can arrive after the lease it grants expired (busy machine): such a holder never
        // held it live (and its writes are refused below).
        if (holder.lost) return;
        live.add(holder);
        maxLive = Math.max(maxLive, live.size);
      };
      // The log accepts a token only if no newer one wrote it (atomic on MongoDB; evaluated on arrival on FerretDB).
      const append = (fence: Fence) =>
        fencedWrite(fence, () =>
          log.updateOne(
            { _id: 'tokens', ...fenceCondition(fence) },
            { $push: { tokens: fence.token }, $set: { fence: fence.token } },
          ),
        );
      await log.insertOne({ _id: 'tokens', tokens: [] });
      // Holders that renew (the keeper) and release when done.
      const keeperWorker = async (w: number) => {
        const keeper = new LeaseKeeper(mongoLeaseStore(colls[w % colls.length]!), {
          owner: `keeper-${w}`,
          ttlMs,
          logger: silentLogger(),
        });
        for (let attempt = 0; granted.length < target && attempt < 5_000; attempt++) {
          const lease = await keeper.acquire(key);
          if (lease === null) {
            await sleep(5 + w * 2);
            continue;
          }
          hold(lease, lease.token);
          try {
            await append(lease.fence);
          } catch (err) {
            // Only a holder that really lost its lease (e.g. renewals starved on a busy machine) is refused.
            expect(err).toMatchObject({ code: 'MONGO_FENCED' });
            expect(lease.lost || !(await leaseIsCurrent(colls[0]!, { key, generation: lease.token }))).toBe(
              true,
            );
          }
          live.delete(lease);
          await lease.release();
        }
      };
      // Holders that write once and then stall for good without renewing or releasing.
      const pausingWorker = async (w: number) => {
        const coll = colls[w % colls.length]!;
        await sleep(200 * w);
        for (;;) {
          const lease = await acquireLease(coll, { key, owner: `paused-${w}`, ttlMs });
          if (lease === null) {
            await sleep(7 + w);
            continue;
          }
          hold(
            {
              get lost() {
                return Date.now() >= lease.expiresAt.getTime();
              },
            },
            lease.generation,
          );
          const fence = createFence(mongoLeaseStore(coll), key, lease.generation);
          // Refused only if it was already superseded (its lease expired before it got to write).
          await append(fence).catch(async (err: unknown) => {
            expect(err).toMatchObject({ code: 'MONGO_FENCED' });
            expect(await leaseIsCurrent(coll, { key, generation: lease.generation })).toBe(false);
          });
          abandoned.push(fence);
          return;
        }
      };
      await Promise.all([
        ...Array.from({ length: 5 }, (_, w) => keeperWorker(w)),
        ...Array.from({ length: 3 }, (_, w) => pausingWorker(w + 1)),
      ]);
      expect(maxLive).toBe(1);
      expect([...granted].sort((a, b) => a - b)).toEqual(granted.map((_, i) => i + 1));
      const written = (await log.findOne({ _id: 'tokens' }))!.tokens;
      expect(written.length).toBeGreaterThanOrEqual(target - 3);
      expect(written).toEqual([...new Set(written)].sort((a, b) => a - b));
      // One more holder after everyone: every paused holder is now superseded.
      const last = await new LeaseKeeper(mongoLeaseStore(colls[0]!), {
        owner: 'last',
        ttlMs,
        logger: silentLogger(),
      }).acquire(key, { waitMs: 10_000 });
      expect(last?.token).toBe(granted.length + 1);
      await last!.release();
      expect(abandoned).toHaveLength(3);
      for (const fence of abandoned) {
        await expect(append(fence)).rejects.toMatchObject({ code: 'MONGO_FENCED' });
      }
      expect((await log.findOne({ _id: 'tokens' }))!.tokens).toEqual(written);
    });
  }, 120_000);
});

describe('lease fencing (integration): pruning old generations', () => {
  it('pruning deletes only expired old generations from the oldest up, always keeping the newest', async () => {
    const coll = leases();
    const t0 = Date.now();
    const old = at(t0, -2 * 3_600_000);
    const doc = (key: string, generation: number, expiresAt: Date): LeaseDocument => ({
      _id: `${key}#${generation}`,
      key,
      generation,
      owner: `o${generation}`,
      expiresAt,
      acquiredAt: old,
    });
    await coll.insertMany([
      doc('k', 1, old),
      doc('k', 2, old),
      doc('k', 3, old),
      // j#1 was extended just as j#2 took over (so it "expires" later); j#2 was released at once.
      doc('j', 1, at(t0, 60_000)),
      doc('j', 2, new Date(0)),
      doc('j', 3, old),
    ]);
    expect(await pruneLeases(coll, at(t0, -3_600_000))).toBe(2);
    expect((await coll.find({}).toArray()).map((d) => d._id).sort()).toEqual(['j#1', 'j#2', 'j#3', 'k#3']);
    // Deleting j#2 alone would have made generation 1 look current again.
    expect(await leaseIsCurrent(coll, { key: 'j', generation: 1 })).toBe(false);
    expect(await leaseIsCurrent(coll, { key: 'j', generation: 2 })).toBe(false);
    expect(await leaseIsCurrent(coll, { key: 'k', generation: 3 })).toBe(true);
    expect(await acquireLease(coll, { key: 'k', owner: 'next', ttlMs: 1_000 })).toMatchObject({
      generation: 4,
    });
    expect(await leaseIsCurrent(coll, { key: 'k', generation: 3 })).toBe(false);
  });
});

describe('step claims (integration)', () => {
  const steps = () => ctx.db().collection<StepClaimDocument>('steps');
  const fenceOf = (generation: number) => createFence(mongoLeaseStore(leases()), 'school', generation);

  it('decides each step once: a paused holder’s late claim is refused and the new holder’s result stands', async () => {
    const t0 = Date.now();
    await acquireLease(leases(), { key: 'school', owner: 'a', ttlMs: 1_000, now: at(t0, 0) });
    await acquireLease(leases(), { key: 'school', owner: 'b', ttlMs: 1_000, now: at(t0, 2_000) });
    const byB = await claimStep(steps(), {
      recordId: 'run-1',
      step: 'applying',
      patch: { state: 'publishing', by: 'b' },
      fence: fenceOf(2),
    });
    expect(byB).toMatchObject({ won: true, claim: { fence: { key: 'school', token: 2 } } });
    await expect(
      claimStep(steps(), {
        recordId: 'run-1',
        step: 'applying',
        patch: { state: 'publishing', by: 'a' },
        fence: fenceOf(1),
      }),
    ).rejects.toMatchObject({ code: 'MONGO_FENCED' });
    expect(await readStepClaim(steps(), 'run-1', 'applying')).toMatchObject({ patch: { by: 'b' } });
  });

  /**
   * A holds the school's lease and claims `step` of record `r`, stalling right after its first fence
   * check while B takes the lease over (and, with `bClaims`, claims the same step first). Settles as
   * A's claim does.
   */
  const claimByAAcrossTakeover = async (step: string, bClaims: boolean) => {
    const t0 = Date.now();
    await acquireLease(leases(), { key: 'school', owner: 'a', ttlMs: 1_000, now: at(t0, 0) });
    const takeover = async () => {
      await acquireLease(leases(), { key: 'school', owner: 'b', ttlMs: 1_000, now: at(t0, 2_000) });
      if (bClaims) await claimStep(steps(), { recordId: 'r', step, patch: { by: 'b' }, fence: fenceOf(2) });
    };
    return claimStep(steps(), {
      recordId: 'r',
      step,
      patch: { by: 'a' },
      fence: pausingAfterFirstCheck(fenceOf(1), takeover),
    });
  };

  it('a claim sent just before a takeover collides with the new holder’s claim and is refused', async () => {
    await expect(claimByAAcrossTakeover('staged', true)).rejects.toMatchObject({ code: 'MONGO_FENCED' });
    expect(await readStepClaim(steps(), 'r', 'staged')).toMatchObject({ patch: { by: 'b' } });
  });

  it('a claim that won while its holder was being replaced reports MONGO_FENCED; the new holder adopts it', async () => {
    await expect(claimByAAcrossTakeover('diffed', false)).rejects.toMatchObject({
      code: 'MONGO_FENCED',
      details: { afterWrite: true },
    });
    // B reaches the same step: the step is already decided (by A, before B wrote anything).
    expect(
      await claimStep(steps(), { recordId: 'r', step: 'diffed', patch: { by: 'b' }, fence: fenceOf(2) }),
    ).toMatchObject({ won: false, claim: { patch: { by: 'a' }, fence: { token: 1 } } });
    // A retry by the holder of the deciding token is idempotent.
    await acquireLease(leases(), { key: 'other', owner: 'c', ttlMs: 60_000 });
    const fenceC = createFence(mongoLeaseStore(leases()), 'other', 1);
    const first = await claimStep(steps(), { recordId: 'x', step: 's', patch: { n: 1 }, fence: fenceC });
    const again = await claimStep(steps(), { recordId: 'x', step: 's', patch: { n: 2 }, fence: fenceC });
    expect([first.won, again.won, again.claim.patch]).toEqual([true, true, { n: 1 }]);
  });

  it('of many claimants racing for one step on separate connections exactly one wins', async () => {
    await onSeparateConnections<StepClaimDocument, void>(ctx, 'steps', 4, async (colls) => {
      for (let round = 0; round < 10; round++) {
        const results = await Promise.all(
          colls.map((c, i) =>
            claimStep(c, { recordId: `r${round}`, step: 'requested', patch: { by: i }, fence: null }),
          ),
        );
        expect(results.filter((r) => r.won)).toHaveLength(1);
        const decided = results.find((r) => r.won)!.claim.patch;
        expect(results.every((r) => r.claim.patch.by === decided.by)).toBe(true);
      }
    });
  });
});
