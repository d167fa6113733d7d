import { afterAll, describe, expect, it } from 'vitest';
import type { CloudEvent } from '@isams-sync/events';
import { eventually, uniqueName } from '@isams-sync/testing';
import type { RosterApp } from '../src/app';
import { ids } from '../src/use-cases/records';
import { holdTenant, runFinished, storedRoster } from './support/harness';
import { rosterClient } from './support/grpc-client';
import { miniSchool } from './support/mini-school';
import { pupil } from './support/raw';
import { useStartedRoster } from './support/started-roster';

const DAY_MS = 86_400_000;
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
// r2 removes 3 pupils (below the threshold: applied, grace starts); r3 removes 27 more (held),
// adds two and renames two — so r3's apply, the purge of r2's removals and the approval of r3's
// held batch all rewrite the same pupil buckets.
const RUNS = [
  ['r1', () => miniSchool(200)],
  ['r2', () => miniSchool(200, { without: range(1, 3) })],
  [
    'r3',
    () =>
      miniSchool(200, {
        without: range(1, 30),
        extra: [pupil('900'), pupil('901')],
        renamed: { 40: 'R40', 41: 'R41' },
      }),
  ],
] as const;

// Replica A is the started roster; replica B joins in the first test.
const replicaA = useStartedRoster();
let b: RosterApp;
let rpcB: ReturnType<typeof rosterClient>;
afterAll(() => rpcB?.close());

const key = (e: CloudEvent) => `${e.type}|${e.subject ?? ''}|${e.syncrunid ?? ''}|${e.id.length}`;
const keysOf = (list: CloudEvent[], tenantId: string) =>
  new Set(list.filter((e) => e.tenantid === tenantId).map(key));
/** The school's event keys in `list`, once there are at least `count`. */
const keysOnceAtLeast = (list: CloudEvent[], tenantId: string, count: number, what: string) =>
  eventually(
    () => {
      const s = keysOf(list, tenantId);
      return s.size >= count ? s : undefined;
    },
    what,
    { timeoutMs: 90_000 },
  );
const rosterOf = (tenantId: string) => storedRoster(replicaA.app.store, tenantId);
/** Just after r2's removals leave their grace period, long before the approval's removals do. */
async function purgeTime(tenantId: string): Promise<Date> {
  const r2 = await replicaA.app.store.getChangeset(tenantId, ids.changeset(tenantId, 'r2'));
  return new Date(r2!.processedAt!.getTime() + 14 * DAY_MS + 1);
}
async function sync(tenantId: string, run: string, data: ReturnType<(typeof RUNS)[number][1]>) {
  await replicaA.publish(tenantId, run, data);
  return runFinished(replicaA.app, tenantId, run);
}
async function metric(app: RosterApp, line: RegExp): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${app.opsPort}/metrics`)).text();
  return Number(
    text
      .split('\n')
      .find((l) => line.test(l))
      ?.split(' ')
      .pop() ?? 0,
  );
}

// r1 adds 200 pupils, 3 staff, a year group and a house; r2 removes 3; r3 adds 2 and updates 2;
// the approval removes 27. State records: one per change, plus the 3 purged people.
const CHANGE_EVENTS = 205 + 3 + 4 + 27;
const STATE_RECORDS = CHANGE_EVENTS + 3;

describe('two replicas on the same school', () => {
  const reference = uniqueName('ref');
  // Taken before later tests' sweeps (which purge every school's due people) touch the reference.
  let want: { roster: Awaited<ReturnType<typeof rosterOf>>; changes: Set<string>; state: Set<string> };

  it('reference: one replica, every step in turn', async () => {
    for (const [run, data] of RUNS) expect((await sync(reference, run, data())).state).toBe('done');
    expect(await replicaA.app.sweeper.purgeExpired(await purgeTime(reference))).toBe(3);
    await replicaA.rpc.call('approveHeldBatch')(
      { batchId: 'held-r3', comment: 'leavers' },
      reference,
      'admin:1',
    );
    expect((await runFinished(replicaA.app, reference, 'r3', 'approval')).outcome).toBe('applied');
    expect((await replicaA.app.store.loadStored(reference)).activeCounts.pupil).toBe(172);
    want = {
      roster: await rosterOf(reference),
      changes: await keysOnceAtLeast(
        replicaA.h.events.changes,
        reference,
        CHANGE_EVENTS,
        'the reference change events',
      ),
      state: await keysOnceAtLeast(
        replicaA.h.events.state,
        reference,
        STATE_RECORDS,
        'the reference state records',
      ),
    };
    expect([want.changes.size, want.state.size]).toEqual([CHANGE_EVENTS, STATE_RECORDS]);
    // the second replica joins the consumer group only now
    b = await replicaA.h.startApp();
    rpcB = rosterClient(b.grpcPort);
  });

  it('a sync raced by both replicas’ sweeps and an approval on the other replica ends as with one replica', async () => {
    const t = uniqueName('race');
    for (const [run, data] of RUNS.slice(0, 2)) expect((await sync(t, run, data())).state).toBe('done');
    const purgeAt = await purgeTime(t);
    let racing = true;
    let sweeps = 0;
    const sweepLoop = async (app: RosterApp) => {
      while (racing) {
        await app.processor.failIncompleteRuns();
        await app.processor.resumeAll();
        await app.sweeper.purgeExpired(purgeAt);
        sweeps += 1;
      }
    };
    const approveOnB = async () => {
      await eventually(
        () =>
          rpcB
            .call('getHeldBatch')({ batchId: 'held-r3' }, t)
            .then(() => true)
            .catch(() => undefined),
        'the held batch of r3',
        { timeoutMs: 90_000 },
      );
      return rpcB.call('approveHeldBatch')({ batchId: 'held-r3', comment: 'leavers' }, t, 'admin:1');
    };
    const loops = [sweepLoop(replicaA.app), sweepLoop(b)];
    await replicaA.publish(t, 'r3', RUNS[2][1]());
    const approved = await approveOnB();
    expect(approved).toMatchObject({ status: 'approved', decidedBy: 'admin:1' });
    expect((await runFinished(b, t, 'r3')).outcome).toBe('held');
    expect((await runFinished(b, t, 'r3', 'approval')).outcome).toBe('applied');
    racing = false;
    await Promise.all(loops);
    expect(sweeps).toBeGreaterThan(0);
    // whichever replica lost every purge race, the school's purge is due once nobody holds it
    await b.sweeper.purgeExpired(purgeAt);

    expect(await rosterOf(t)).toEqual(want.roster);
    // duplicates are tolerated (sets), gaps are not
    for (const [list, expected, what] of [
      [replicaA.h.events.changes, want.changes, 'change events'],
      [replicaA.h.events.state, want.state, 'state records'],
    ] as const) {
      const got = await eventually(
        () => {
          const s = keysOf(list, t);
          return [...expected].every((k) => s.has(k)) ? s : undefined;
        },
        `every ${what}`,
        { timeoutMs: 90_000 },
      );
      expect([...got].sort()).toEqual([...expected].sort());
    }
    const reports = await eventually(
      () => {
        const r = replicaA.h.events.runs
          .filter((e) => e.tenantid === t && e.syncrunid === 'r3')
          .map(
            (e) => `${(e.data as { sequence: number }).sequence}:${(e.data as { status: string }).status}`,
          );
        return new Set(r).size >= 3 ? new Set(r) : undefined;
      },
      'r3 reports',
      { timeoutMs: 90_000 },
    );
    expect([...reports].sort()).toEqual(['1:applying', '2:held', '3:applied']);
  }, 240_000);

  it('an approval on replica B waits while replica A holds the school, then succeeds', async () => {
    const t = uniqueName('wait');
    for (const [run, data] of RUNS) expect((await sync(t, run, data())).state).toBe('done');
    const hold = await holdTenant(replicaA.app, t);
    const waitsBefore = await metric(b, /^roster_tenant_busy_total\{.*mode="wait"/);
    let settled = false;
    const approval = rpcB.call('approveHeldBatch')({ batchId: 'held-r3', comment: 'ok' }, t, 'admin:2');
    void approval.finally(() => (settled = true)).catch(() => undefined);
    await eventually(
      async () =>
        (await metric(b, /^roster_tenant_busy_total\{.*mode="wait"/)) > waitsBefore ? true : undefined,
      'replica B to wait for the school',
    );
    expect(settled).toBe(false);
    expect((await replicaA.app.store.heldBatch(t, 'held-r3'))?.status).toBe('pending');
    hold.release();
    await hold.done;
    expect(await approval).toMatchObject({ status: 'approved', decidedBy: 'admin:2' });
    expect((await runFinished(b, t, 'r3', 'approval')).outcome).toBe('applied');
    expect((await b.store.loadStored(t)).activeCounts.pupil).toBe(172);
  });
});

describe('an approval waiting for a school another process holds', () => {
  it('an approval gives up waiting for the school before its caller does: nothing is decided behind a caller that timed out', async () => {
    const t = uniqueName('deadline');
    for (const [run, data] of RUNS) expect((await sync(t, run, data())).state).toBe('done');
    // This replica waits up to TENANT_LEASE_WAIT_MS (20 s) for a school; its caller (like the
    // gateway) gives up after 3 s.
    const patient = await replicaA.h.startApp({}, { TENANT_LEASE_WAIT_MS: 20_000 });
    const hurried = rosterClient(patient.grpcPort, 'gateway', 3_000);
    try {
      const hold = await holdTenant(replicaA.app, t);
      await expect(
        hurried.call('approveHeldBatch')({ batchId: 'held-r3', comment: 'ok' }, t, 'admin:4'),
      ).rejects.toMatchObject({ code: 14, errorCode: 'ROSTER_TENANT_BUSY' });
      hold.release();
      await hold.done;
      expect((await replicaA.app.store.heldBatch(t, 'held-r3'))?.status).toBe('pending');
    } finally {
      hurried.close();
    }
  });

  it('an approval that cannot get the school within its wait fails UNAVAILABLE (ROSTER_TENANT_BUSY)', async () => {
    const t = uniqueName('busy');
    for (const [run, data] of RUNS) expect((await sync(t, run, data())).state).toBe('done');
    const impatient = await replicaA.h.startApp({}, { TENANT_LEASE_WAIT_MS: 1_000 });
    const rpcC = rosterClient(impatient.grpcPort);
    try {
      const hold = await holdTenant(replicaA.app, t);
      await expect(
        rpcC.call('approveHeldBatch')({ batchId: 'held-r3', comment: 'ok' }, t, 'admin:3'),
      ).rejects.toMatchObject({ code: 14, errorCode: 'ROSTER_TENANT_BUSY' });
      expect((await replicaA.app.store.heldBatch(t, 'held-r3'))?.status).toBe('pending');
      hold.release();
      await hold.done;
      // the retry the error asks for succeeds
      expect(
        await rpcC.call('approveHeldBatch')({ batchId: 'held-r3', comment: 'ok' }, t, 'admin:3'),
      ).toMatchObject({ status: 'approved' });
    } finally {
      rpcC.close();
    }
  });
});
