import { getTestInfra, startSystem, type RunningSystem } from '@isams-sync/testing';
import { headerValue, readTopic, createKafkaClient } from '@isams-sync/kafka';
import { createLogger } from '@isams-sync/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReferenceSubscriber } from '../reference-subscriber/subscriber';
import {
  activeIds,
  expectCopyEqualsRoster,
  finishAfterCrash,
  rosterSnapshot,
  School,
  serviceClients,
  startSubscriber,
  type ServiceClients,
} from './support';

/**
 * The reference subscriber (tools/reference-subscriber) beside the real processes: after every
 * scenario its own copy of each school equals the roster service's. The roster runs with a grace
 * period of 0 days, so every removal is purged by the next sweep (tombstones on the state topic) —
 * the subscriber must forget those people too.
 */
describe('e2e: a reference subscriber keeps a copy equal to the roster', () => {
  let system: RunningSystem;
  let clients: ServiceClients;
  let sub: ReferenceSubscriber;
  /** A subscriber that needs only names and ids: on the directory projection's topics. */
  let dir: ReferenceSubscriber;
  let a: School;
  let b: School;
  const brokers = getTestInfra().kafkaBrokers;

  beforeAll(async () => {
    system = await startSystem({
      holdPercent: 10,
      holdMin: 5,
      env: { roster: { REMOVAL_GRACE_DAYS: '0', SWEEP_INTERVAL_MS: '2s' } },
    });
    clients = serviceClients(system);
    // Started before anything was published: bootstraps from an empty state topic, then follows.
    sub = await startSubscriber(system, brokers);
    dir = await startSubscriber(system, brokers, 'directory');
    [a, b] = await Promise.all([
      School.create(system, 'e2e-sub-a', 41),
      School.create(system, 'e2e-sub-b', 41),
    ]);
  }, 240_000);

  afterAll(async () => {
    await sub?.stop();
    await dir?.stop();
    clients?.close();
    await system?.stop();
  }, 90_000);

  /** Both copies equal the roster: the full one, and the directory one its projection. */
  async function expectCopies(tenantId: string): Promise<void> {
    await expectCopyEqualsRoster(clients, sub, tenantId);
    await expectCopyEqualsRoster(clients, dir, tenantId, 'directory');
  }

  it('first sync', async () => {
    const run = await a.sync();
    expect(run.status, JSON.stringify(run.error)).toBe('applied');
    await expectCopies(a.id);
    expect(sub.copy.list(a.id).filter((e) => e.entityType === 'pupil')).toHaveLength(300);
    // Least data: the directory subscriber has names and ids, never contact details or birth dates.
    const personal = [
      'dob',
      'email',
      'emails',
      'mobile',
      'telephone',
      'address',
      'gender',
      'upn',
      'familyId',
    ];
    const received = dir.copy.list(a.id);
    expect(received.filter((e) => e.entityType === 'contact').length).toBeGreaterThan(0);
    expect(received.filter((e) => Object.keys(e.data).some((k) => personal.includes(k)))).toEqual([]);
    expect(received.some((e) => e.entityType === 'contact' && e.data.surname !== undefined)).toBe(true);
    expect(sub.copy.list(a.id).some((e) => e.entityType === 'contact' && e.data.address !== undefined)).toBe(
      true,
    );
  }, 300_000);

  it('updates, an addition and removals (purged at once: grace 0) — the subscriber forgets them too', async () => {
    const pupils = activeIds(await rosterSnapshot(clients, a.id), 'pupil');
    const leavers = pupils.slice(0, 3);
    for (const p of leavers) await a.sim('DELETE', `/pupils/${p}`);
    await a.sim('PATCH', `/pupils/${pupils[10]}`, { forename: 'Renamed' });
    await a.sim('POST', '/pupils', { ncYear: 9, forename: 'Siân', surname: "O'Brien" });
    const run = await a.sync();
    expect(run.status, JSON.stringify(run.error)).toBe('applied');
    expect(run.rosterCounts?.pupil).toMatchObject({ added: 1, removed: 3, updated: 1 });
    await expectCopies(a.id);
    // The purge: the roster keeps only `{ id }`, the state topic's last record of each key is a tombstone.
    const purged = async () => {
      const res = await clients.roster(a.id, (c) => c.listEntities, {
        entityType: 'pupil',
        status: 'removed',
        page: { pageSize: 500, pageToken: '' },
      });
      return res.entities.filter((e) => e.purged).map((e) => e.entityId);
    };
    for (let i = 0; i < 60 && (await purged()).length < 3; i++) await new Promise((r) => setTimeout(r, 500));
    expect((await purged()).sort()).toEqual([...leavers].sort());
    const client = createKafkaClient({
      brokers: [...brokers],
      clientId: 'e2e-state-reader',
      logger: createLogger({ service: 'e2e', level: 'silent' }),
    });
    const last = new Map<string, Buffer | null>();
    for (const r of await readTopic(client, system.topics.state))
      if (headerValue(r.headers, 'ce_tenantid') === a.id) last.set(r.key?.toString() ?? '', r.value);
    for (const p of leavers) expect(last.get(`${a.id}/pupil/${p}`)).toBeNull();
    expect(sub.copy.list(a.id).some((e) => e.entityType === 'pupil' && leavers.includes(e.entityId))).toBe(
      false,
    );
    await expectCopies(a.id);
  }, 300_000);

  /** 40 pupils leave `a` (over the hold threshold) and a sync holds them: the held run. */
  const holdFortyLeavers = async () => {
    const pupils = activeIds(await rosterSnapshot(clients, a.id), 'pupil');
    for (const p of pupils.slice(0, 40)) await a.sim('DELETE', `/pupils/${p}`);
    const run = await a.sync();
    expect(run.status, JSON.stringify(run.error)).toBe('held');
    return run;
  };
  const activePupilsInCopy = () =>
    sub.copy.list(a.id).filter((e) => e.entityType === 'pupil' && e.status === 'active');

  it('a held batch: nothing while held, the removals once approved', async () => {
    const run = await holdFortyLeavers();
    await expectCopies(a.id);
    expect(activePupilsInCopy()).toHaveLength(298);
    await a.api('POST', `/held-batches/${run.heldBatchId}/approve`, { comment: 'leavers confirmed' });
    const active = async () => activeIds(await rosterSnapshot(clients, a.id), 'pupil').length;
    for (let i = 0; i < 120 && (await active()) !== 258; i++) await new Promise((r) => setTimeout(r, 500));
    expect(await active()).toBe(258);
    await expectCopies(a.id);
  }, 300_000);

  it('a held batch discarded: nothing of it reaches the subscriber', async () => {
    const run = await holdFortyLeavers();
    await a.api('POST', `/held-batches/${run.heldBatchId}/discard`, { comment: 'not leavers' });
    const again = await a.sync();
    expect(['applied', 'unchanged']).toContain(again.status);
    await expectCopies(a.id);
    expect(activePupilsInCopy()).toHaveLength(258);
  }, 300_000);

  it('roster killed with -9 mid-apply, restarted: the copies still equal the roster', async () => {
    const runId = await b.trigger();
    const seen = await b.waitFor(runId, (r) => r.status === 'applying');
    expect(seen.status).toBe('applying');
    await system.processes.roster.kill9();
    await system.processes.roster.restart();
    const run = await finishAfterCrash(b, runId);
    expect(run.status, JSON.stringify(run.error)).toBe('applied');
    await expectCopies(b.id);
    await expectCopies(a.id);
  }, 400_000);

  it('a subscriber started later — while a run publishes — bootstraps from the state topic and converges', async () => {
    const pupils = activeIds(await rosterSnapshot(clients, b.id), 'pupil');
    for (const p of pupils.slice(0, 4)) await b.sim('DELETE', `/pupils/${p}`);
    for (const p of pupils.slice(10, 30)) await b.sim('PATCH', `/pupils/${p}`, { forename: 'Late' });
    await sub.stop();
    await dir.stop();
    const runId = await b.trigger();
    await b.waitFor(runId, (r) => r.status === 'applying');
    [sub, dir] = await Promise.all([
      startSubscriber(system, brokers),
      startSubscriber(system, brokers, 'directory'),
    ]);
    const run = await b.waitRun(runId);
    expect(run.status, JSON.stringify(run.error)).toBe('applied');
    await expectCopies(b.id);
    await expectCopies(a.id);
    // The bootstrap read tombstones of school a's purged people and never gave them a copy.
    expect(sub.stats.tombstones).toBeGreaterThan(0);
  }, 400_000);
});
