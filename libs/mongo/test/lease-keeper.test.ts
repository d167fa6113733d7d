import { createLogger } from '@isams-sync/logger';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LeaseKeeper, MongoErrors } from '../src/index';
import type { Lease, LeaseRequest } from '../src/index';
import { MemoryLeaseStore } from './support/memory-lease-store';

const logger = createLogger({ service: 'lease-keeper-test', level: 'silent' });
const T0 = new Date('2026-03-02T09:00:00Z').getTime();
const TTL = 3_000;

/** Records the time (ms after T0) of every renewal the keeper sends. */
function recordingStore() {
  const store = new MemoryLeaseStore();
  const renewals: number[] = [];
  const renew = store.renew.bind(store);
  store.renew = (request: LeaseRequest & { generation: number }): Promise<Lease | null> => {
    renewals.push(request.now!.getTime() - T0);
    return renew(request);
  };
  return { store, renewals };
}

const keeperOn = (store: MemoryLeaseStore, owner = 'a') =>
  new LeaseKeeper(store, { owner, ttlMs: TTL, logger, pollMs: 100 });

describe('LeaseKeeper timers (fake timers, in-memory lease store)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('renews every ttl/3 while held, so the lease never expires', async () => {
    const { store, renewals } = recordingStore();
    const lease = (await keeperOn(store).acquire('school'))!;
    expect(lease).toMatchObject({ key: 'school', owner: 'a', token: 1, lost: false });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(renewals).toEqual([1_000, 2_000, 3_000, 4_000, 5_000, 6_000, 7_000, 8_000, 9_000, 10_000]);
    expect(lease.lost).toBe(false);
    expect(lease.signal.aborted).toBe(false);
    // Held all along: another owner is refused 10 s (more than three ttls) later.
    expect(await store.acquire({ key: 'school', owner: 'b', ttlMs: TTL, now: new Date() })).toBeNull();
    await lease.fence.check();
  });

  it('fires the lost signal when a renewal is refused (the lease was taken over), and stops renewing', async () => {
    const { store, renewals } = recordingStore();
    const lease = (await keeperOn(store).acquire('school'))!;
    const lost = vi.fn();
    lease.signal.addEventListener('abort', lost);
    store.expire('school');
    expect(await store.acquire({ key: 'school', owner: 'b', ttlMs: TTL, now: new Date() })).toMatchObject({
      generation: 2,
    });
    await vi.advanceTimersByTimeAsync(999);
    expect(lost).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(lost).toHaveBeenCalledTimes(1);
    expect(lease.lost).toBe(true);
    expect(MongoErrors.MONGO_LEASE_LOST.is(lease.signal.reason)).toBe(true);
    expect(() => lease.assertHeld()).toThrow(expect.objectContaining({ code: 'MONGO_LEASE_LOST' }));
    await expect(lease.fence.check()).rejects.toMatchObject({ code: 'MONGO_FENCED' });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(renewals).toEqual([1_000]);
  });

  it('fires the lost signal at the expiry when no renewal succeeded (database unreachable)', async () => {
    const store = new MemoryLeaseStore();
    const lease = (await keeperOn(store).acquire('school'))!;
    const renew = vi.spyOn(store, 'renew').mockRejectedValue(new Error('connection refused'));
    await vi.advanceTimersByTimeAsync(2_999);
    expect(renew).toHaveBeenCalledTimes(2);
    expect(lease.lost).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(lease.signal.aborted).toBe(true);
    expect(lease.signal.reason).toMatchObject({ code: 'MONGO_LEASE_LOST', details: { reason: 'expired' } });
  });

  it('a renewal answered only after the lease expired counts as lost, even though the store renewed it', async () => {
    const store = new MemoryLeaseStore();
    const lease = (await keeperOn(store).acquire('school'))!;
    const renew = store.renew.bind(store);
    vi.spyOn(store, 'renew').mockImplementation(async (request) => {
      const result = await renew(request);
      await new Promise((r) => setTimeout(r, 2_500));
      return result;
    });
    await vi.advanceTimersByTimeAsync(2_999);
    expect(lease.lost).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(lease.lost).toBe(true);
    // The late answer (at 3.5 s) does not revive it.
    await vi.advanceTimersByTimeAsync(1_000);
    expect(lease.lost).toBe(true);
    expect(lease.signal.reason).toMatchObject({ code: 'MONGO_LEASE_LOST' });
  });

  it('after an event-loop stall past the expiry the due renewal is not sent: the lease is lost', async () => {
    const { store, renewals } = recordingStore();
    const lease = (await keeperOn(store).acquire('school'))!;
    // The process stalls for 5 s: the clock moves on, no timer runs meanwhile.
    vi.setSystemTime(T0 + 5_000);
    expect(lease.lost).toBe(true);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(renewals).toEqual([]);
    expect(lease.signal.reason).toMatchObject({ code: 'MONGO_LEASE_LOST', details: { reason: 'expired' } });
  });

  it('waits for a busy lease up to waitMs, polling, then gives up; gets it as soon as it is released', async () => {
    const store = new MemoryLeaseStore();
    const other = (await keeperOn(store, 'b').acquire('school'))!;
    const acquire = vi.spyOn(store, 'acquire');
    const gaveUp = keeperOn(store).acquire('school', { waitMs: 1_000 });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await gaveUp).toBeNull();
    expect(acquire).toHaveBeenCalledTimes(11);

    const waiting = keeperOn(store).acquire('school', { waitMs: 10_000 });
    await vi.advanceTimersByTimeAsync(250);
    await other.release();
    await vi.advanceTimersByTimeAsync(100);
    expect(await waiting).toMatchObject({ owner: 'a', token: 2, lost: false });
  });

  it('release stops renewing, gives the lease up and ends the holder’s signal', async () => {
    const { store, renewals } = recordingStore();
    const keeper = keeperOn(store);
    const lease = (await keeper.acquire('school'))!;
    await vi.advanceTimersByTimeAsync(1_500);
    await lease.release();
    expect(lease.signal.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(renewals).toEqual([1_000]);
    expect(await store.acquire({ key: 'school', owner: 'b', ttlMs: TTL, now: new Date() })).toMatchObject({
      generation: 2,
    });
  });

  it('refuses a second hold of a key this keeper already holds (the first holder keeps it)', async () => {
    const keeper = keeperOn(new MemoryLeaseStore());
    const first = (await keeper.acquire('school'))!;
    expect(await keeper.acquire('school')).toBeNull();
    await first.release();
    expect(await keeper.acquire('school')).toMatchObject({ token: 2 });
  });
});
