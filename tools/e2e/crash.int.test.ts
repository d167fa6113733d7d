import { beforeAll, describe, expect, it } from 'vitest';
import {
  activeIds,
  bookingOutcomes,
  bookParentsEvening,
  captureReference,
  contactsByPupil,
  expectSameAsReference,
  finishAfterCrash,
  listBookings,
  School,
  waitForBookings,
  type Reference,
  useWatchedSystem,
} from './support';

const SEED = 21;
const LEAVERS = 6;

/**
 * kill -9 of each service in the middle of a sync: the final roster, the roster change events (no
 * gaps, duplicates tolerated) and the bookings are exactly those of a reference school (same iSAMS
 * data, same changes) that synced without a crash.
 */
describe('e2e: kill -9 of each service mid-sync changes nothing in the outcome', () => {
  // Reference subscribers (full and directory) beside the system: their copies equal the roster after each crash.
  const e2e = useWatchedSystem({
    env: {
      // Quick takeover of a run whose connector died (lease expiry) and quick roster resumes.
      connector: { RUN_LEASE_TTL_MS: '6s', STALE_SWEEP_INTERVAL_MS: '2s' },
      roster: { SWEEP_INTERVAL_MS: '3s' },
    },
    subscribers: true,
  });
  let ref: School;
  const refRuns: string[] = [];
  let first: Reference;
  let booked: string[] = [];
  let leavers: string[] = [];
  let staffId = '';
  let contacts = new Map<string, string>();

  beforeAll(async () => {
    ref = await School.create(e2e.system, 'e2e-crash-ref', SEED);
    const run = await ref.sync();
    expect(run.status, JSON.stringify(run.error)).toBe('applied');
    refRuns.push(run.syncRunId);
    const added = Object.values(run.rosterCounts ?? {}).reduce((n, c) => n + (c.added ?? 0), 0);
    first = await captureReference(e2e.clients, e2e.changes, ref, refRuns, added);
    await e2e.expectCopies(ref.id);
    contacts = contactsByPupil(first.snapshot);
    const pupils = activeIds(first.snapshot, 'pupil').filter((p) => contacts.has(p));
    booked = pupils.slice(0, 10);
    leavers = booked.slice(0, LEAVERS);
    staffId = activeIds(first.snapshot, 'staff')[0]!;
  }, 400_000);

  /**
   * kill -9 of `service` (then a restart) while `school`'s run `runId` is under way: the run still
   * applies, and the roster, its events and the subscribers' copies are the reference's.
   */
  async function crashAndCompare(
    service: 'connector' | 'roster' | 'gateway',
    school: School,
    runId: string,
  ): Promise<void> {
    await e2e.system.processes[service].kill9();
    await e2e.system.processes[service].restart();
    const run = await finishAfterCrash(school, runId);
    expect(run.status, JSON.stringify(run.error)).toBe('applied');
    await expectSameAsReference(e2e.clients, e2e.changes, school, [run.syncRunId], first);
    await e2e.expectCopies(school.id);
  }

  it('connector killed mid-publish', async () => {
    const school = await School.create(e2e.system, 'e2e-crash-connector', SEED);
    const runId = await school.trigger();
    const seen = await school.waitFor(
      runId,
      (r) => r.progress.chunksPublished > 0 || r.status === 'published',
    );
    expect(seen.terminal).toBe(false);
    await crashAndCompare('connector', school, runId);
  }, 400_000);

  it('roster killed mid-apply', async () => {
    const school = await School.create(e2e.system, 'e2e-crash-roster', SEED);
    const runId = await school.trigger();
    const seen = await school.waitFor(runId, (r) => r.status === 'applying');
    expect(seen.status).toBe('applying');
    await crashAndCompare('roster', school, runId);
  }, 400_000);

  it('gateway killed mid-request (harmless)', async () => {
    const school = await School.create(e2e.system, 'e2e-crash-gateway', SEED);
    const runId = await school.trigger();
    await crashAndCompare('gateway', school, runId);
  }, 400_000);

  it("bookings killed mid-cancellation: the leavers' bookings are cancelled exactly once", async () => {
    // Reference: leavers with bookings, second sync without a crash.
    const refEvent = await bookParentsEvening(e2e.clients, ref.id, booked, staffId, contacts, 8);
    for (const p of leavers) await ref.sim('DELETE', `/pupils/${p}`);
    const refRun = await ref.sync();
    expect(refRun.status, JSON.stringify(refRun.error)).toBe('applied');
    refRuns.push(refRun.syncRunId);
    const refBookings = await waitForBookings(
      e2e.clients,
      ref.id,
      refEvent.eventId,
      (l) => l.filter((b) => b.status === 'cancelled').length >= LEAVERS,
    );
    const expectedBookings = bookingOutcomes(refBookings);
    expect(expectedBookings.filter((b) => b.includes(' cancelled '))).toHaveLength(LEAVERS);
    const second = await captureReference(
      e2e.clients,
      e2e.changes,
      ref,
      refRuns,
      first.facts.length + Object.values(refRun.rosterCounts ?? {}).reduce((n, c) => n + (c.removed ?? 0), 0),
    );

    const school = await School.create(e2e.system, 'e2e-crash-bookings', SEED);
    const firstRun = await school.sync();
    expect(firstRun.status).toBe('applied');
    const event = await bookParentsEvening(e2e.clients, school.id, booked, staffId, contacts, 8);
    for (const p of leavers) await school.sim('DELETE', `/pupils/${p}`);
    const runId = await school.trigger();
    const mid = await waitForBookings(
      e2e.clients,
      school.id,
      event.eventId,
      (l) => l.some((b) => b.status === 'cancelled'),
      240_000,
    );
    await e2e.system.processes.bookings.kill9();
    expect(mid.filter((b) => b.status === 'cancelled').length).toBeGreaterThan(0);
    await e2e.system.processes.bookings.restart();
    const run = await finishAfterCrash(school, runId);
    expect(run.status).toBe('applied');
    const after = await waitForBookings(
      e2e.clients,
      school.id,
      event.eventId,
      (l) => l.filter((b) => b.status === 'cancelled').length >= LEAVERS,
    );
    expect(bookingOutcomes(after)).toEqual(expectedBookings);
    // Exactly once in effect: each cancellation names one roster event and has one history entry.
    expect((await listBookings(e2e.clients, school.id, event.eventId)).length).toBe(booked.length);
    await expectSameAsReference(
      e2e.clients,
      e2e.changes,
      school,
      [firstRun.syncRunId, run.syncRunId],
      second,
    );
    await e2e.expectCopies(school.id);
    await e2e.expectCopies(ref.id);
  }, 600_000);
});
