import { startSystem, type RunningSystem } from '@isams-sync/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  activeIds,
  bookingOutcomes,
  bookParentsEvening,
  captureReference,
  ChangeEventLog,
  contactsByPupil,
  expectSameAsReference,
  finishAfterCrash,
  listBookings,
  PrivateInfra,
  School,
  serviceClients,
  waitForBookings,
  type Reference,
  type ServiceClients,
  type SyncRun,
} from './support';

const SEED = 23;
const LEAVERS = 6;
const EVENT_DAY = 8;

type Server = 'kafka' | 'ferretdb';

/**
 * Kafka and FerretDB restarted under the running services in the middle of a sync (on a private
 * Kafka + FerretDB, so the shared infrastructure is never touched): the roster, the change events
 * (no gaps; duplicates tolerated) and the bookings equal those of a reference school (same iSAMS
 * data, same changes) that synced while everything was up.
 */
describe('e2e: Kafka and FerretDB restarted mid-sync change nothing in the outcome', () => {
  let infra: PrivateInfra;
  let system: RunningSystem;
  let clients: ServiceClients;
  let changes: ChangeEventLog;
  let first: Reference;
  let second: Reference;
  let expectedBookings: string[] = [];
  let booked: string[] = [];
  let leavers: string[] = [];
  let staffId = '';
  let contacts = new Map<string, string>();

  const addedOf = (run: SyncRun) =>
    Object.values(run.rosterCounts ?? {}).reduce((n, c) => n + (c.added ?? 0), 0);
  const removedOf = (run: SyncRun) =>
    Object.values(run.rosterCounts ?? {}).reduce((n, c) => n + (c.removed ?? 0), 0);
  const cancelled = (l: ReadonlyArray<{ status: string }>) => l.filter((b) => b.status === 'cancelled');

  /**
   * Stops one server, leaves it down for a moment, starts it again (same data, same port); notes
   * where the run was just before (with FerretDB down the gateway can't tell).
   */
  const bounce = async (
    server: Server,
    school: School,
    runId: string,
    annotate: (message: string) => Promise<unknown>,
    note = '',
  ) => {
    const at = await school.run(runId);
    await infra.stopServer(server);
    await new Promise((r) => setTimeout(r, 3000));
    await infra.restart();
    await annotate(
      `${server} stopped at run ${at.status}, ${at.progress.chunksPublished}/${at.progress.chunksTotal} chunks published, roster ${at.rosterStatus ?? '-'}${note}`,
    );
  };
  const failure = (run: SyncRun) => `${JSON.stringify(run.error)}\n${system.logs()}\n(${infra.logDir()})`;

  beforeAll(async () => {
    infra = await PrivateInfra.up();
    system = await startSystem({
      infra,
      env: {
        connector: { RUN_LEASE_TTL_MS: '6s', STALE_SWEEP_INTERVAL_MS: '2s' },
        roster: { SWEEP_INTERVAL_MS: '3s' },
      },
    });
    clients = serviceClients(system);
    changes = await ChangeEventLog.start(infra.kafkaBrokers, system.topics.changes);

    // The reference: first sync, a parents' evening booked, leavers, second sync — nothing restarted.
    const ref = await School.create(system, 'e2e-infra-ref', SEED);
    const run1 = await ref.sync();
    expect(run1.status, JSON.stringify(run1.error)).toBe('applied');
    first = await captureReference(clients, changes, ref, [run1.syncRunId], addedOf(run1));
    contacts = contactsByPupil(first.snapshot);
    booked = activeIds(first.snapshot, 'pupil')
      .filter((p) => contacts.has(p))
      .slice(0, 10);
    leavers = booked.slice(0, LEAVERS);
    staffId = activeIds(first.snapshot, 'staff')[0]!;
    const event = await bookParentsEvening(clients, ref.id, booked, staffId, contacts, EVENT_DAY);
    for (const p of leavers) await ref.sim('DELETE', `/pupils/${p}`);
    const run2 = await ref.sync();
    expect(run2.status, JSON.stringify(run2.error)).toBe('applied');
    const refBookings = await waitForBookings(
      clients,
      ref.id,
      event.eventId,
      (l) => cancelled(l).length >= LEAVERS,
    );
    expectedBookings = bookingOutcomes(refBookings);
    expect(expectedBookings.filter((b) => b.includes(' cancelled '))).toHaveLength(LEAVERS);
    second = await captureReference(
      clients,
      changes,
      ref,
      [run1.syncRunId, run2.syncRunId],
      first.facts.length + removedOf(run2),
    );
  }, 600_000);

  afterAll(async () => {
    await changes?.stop().catch(() => undefined);
    clients?.close();
    await system?.stop().catch(() => undefined);
    infra?.destroy();
  }, 180_000);

  /**
   * The second half of each scenario: a parents' evening booked, the leavers gone from iSAMS, and
   * `server` restarted as soon as the first roster change event of the run is out — while the
   * roster publishes and the bookings service cancels the leavers' bookings.
   */
  async function leaversSyncWithRestart(
    school: School,
    firstRunId: string,
    server: Server,
    annotate: (message: string) => Promise<unknown>,
  ) {
    const event = await bookParentsEvening(clients, school.id, booked, staffId, contacts, EVENT_DAY);
    for (const p of leavers) await school.sim('DELETE', `/pupils/${p}`);
    const runId = await school.trigger();
    await changes.waitFor(school.id, (e) => e.syncRunId === runId, 240_000);
    const mid = await listBookings(clients, school.id, event.eventId);
    await bounce(
      server,
      school,
      runId,
      annotate,
      `, ${cancelled(mid).length} of ${LEAVERS} bookings cancelled`,
    );
    const run = await finishAfterCrash(school, runId);
    expect(run.status, failure(run)).toBe('applied');
    const after = await waitForBookings(
      clients,
      school.id,
      event.eventId,
      (l) => cancelled(l).length >= LEAVERS,
    );
    expect(bookingOutcomes(after)).toEqual(expectedBookings);
    expect((await listBookings(clients, school.id, event.eventId)).length).toBe(booked.length);
    await expectSameAsReference(clients, changes, school, [firstRunId, run.syncRunId], second);
  }

  /**
   * A school's first sync with `server` bounced once the run is where `reached` says (checked by
   * `expectSeen` before the bounce): it ends applied, equal to the reference; then its leavers' sync
   * with `server` bounced again mid-cancellation.
   */
  async function restartedMidRun(
    server: Server,
    annotate: (message: string) => Promise<unknown>,
    reached: (run: SyncRun) => boolean,
    expectSeen: (seen: SyncRun) => void,
  ): Promise<void> {
    const school = await School.create(system, `e2e-infra-${server}`, SEED);
    const runId = await school.trigger();
    expectSeen(await school.waitFor(runId, reached));
    await bounce(server, school, runId, annotate);
    const run = await finishAfterCrash(school, runId);
    expect(run.status, failure(run)).toBe('applied');
    await expectSameAsReference(clients, changes, school, [run.syncRunId], first);
    await leaversSyncWithRestart(school, run.syncRunId, server, annotate);
  }

  it('Kafka restarted while the connector publishes, and again mid-cancellation', async ({ annotate }) => {
    await restartedMidRun(
      'kafka',
      annotate,
      // Fetching or fetched: the chunks are about to be published, or being published, when the broker
      // goes away. (Waiting for chunks alone was racy: a small school's whole run can finish between
      // two polls, and then nothing was restarted under it.)
      (r) => r.status === 'fetching' || r.progress.chunksTotal > 0,
      (seen) => expect(seen.terminal).toBe(false),
    );
  }, 600_000);

  it('FerretDB restarted while the roster applies, and again mid-cancellation', async ({ annotate }) => {
    await restartedMidRun(
      'ferretdb',
      annotate,
      (r) => r.status === 'applying',
      (seen) => expect(seen.status).toBe('applying'),
    );
  }, 600_000);
});
