import { describe, expect, it } from 'vitest';
import { TEST_RETRY_AFTER_SECONDS, TestConnectionSlots } from '../../src/use-cases/test-connection-slots';
import { InMemoryExclusiveLeases } from '../support/in-memory/settings-ports';

// The caps on connection tests on in-memory leases (the real lease keeper and two replicas:
// test/int/test-connection-limits.int.test.ts).

describe('test-connection slots', () => {
  it('at most one test per school (across replicas: the lease), the second one refused', async () => {
    const leases = new InMemoryExclusiveLeases();
    const a = new TestConnectionSlots(leases, 4);
    const b = new TestConnectionSlots(leases, 4);
    const held = await a.acquire('school-a');
    expect(leases.isHeld('test-connection:school-a')).toBe(true);
    await expect(b.acquire('school-a')).rejects.toMatchObject({ code: 'CONNECTOR_TEST_ALREADY_RUNNING' });
    // The refused test does not hold a place on its replica.
    expect(b.inUse).toBe(0);
    // Another school is not held up.
    const other = await b.acquire('school-b');
    expect(b.inUse).toBe(1);
    await held.release();
    await other.release();
    const again = await b.acquire('school-a');
    await again.release();
  });

  it('at most maxPerReplica tests at once in this process, with a suggested wait', async () => {
    const slots = new TestConnectionSlots(new InMemoryExclusiveLeases(), 2);
    const one = await slots.acquire('s1');
    const two = await slots.acquire('s2');
    await expect(slots.acquire('s3')).rejects.toMatchObject({
      code: 'CONNECTOR_TEST_CAPACITY_EXHAUSTED',
      details: expect.objectContaining({ limit: 2, retryAfterSeconds: TEST_RETRY_AFTER_SECONDS }),
    });
    expect(slots.inUse).toBe(2);
    await one.release();
    expect(slots.inUse).toBe(1);
    const three = await slots.acquire('s3');
    expect(slots.inUse).toBe(2);
    await two.release();
    await three.release();
    expect(slots.inUse).toBe(0);
  });

  it('a second release frees nothing more and lets the school be tested again', async () => {
    const leases = new InMemoryExclusiveLeases();
    const slots = new TestConnectionSlots(leases, 1);
    const slot = await slots.acquire('s1');
    await slot.release();
    await slot.release();
    expect(slots.inUse).toBe(0);
    expect(leases.isHeld('test-connection:s1')).toBe(false);
    const next = await slots.acquire('s1');
    expect(slots.inUse).toBe(1);
    await next.release();
  });

  it('a lease that cannot be taken (database error) gives the place back and throws that error', async () => {
    const leases = new InMemoryExclusiveLeases();
    const slots = new TestConnectionSlots(leases, 1);
    leases.failNextAcquire = new Error('database unavailable');
    await expect(slots.acquire('s1')).rejects.toThrow('database unavailable');
    expect(slots.inUse).toBe(0);
    const slot = await slots.acquire('s1');
    await slot.release();
  });

  it("the slot's signal aborts when the school's lease is lost", async () => {
    const leases = new InMemoryExclusiveLeases();
    const slots = new TestConnectionSlots(leases, 1);
    const slot = await slots.acquire('s1');
    expect(slot.signal.aborted).toBe(false);
    leases.lose('test-connection:s1');
    expect(slot.signal.aborted).toBe(true);
    // The place on this replica stays taken until the test itself ends.
    expect(slots.inUse).toBe(1);
    await slot.release();
    expect(slots.inUse).toBe(0);
  });
});
