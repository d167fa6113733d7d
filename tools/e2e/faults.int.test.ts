import { startSystem, type RunningSystem } from '@isams-sync/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  rosterSnapshot,
  School,
  serviceClients,
  snapshotDiff,
  type RosterSnapshot,
  type ServiceClients,
  type SyncRun,
} from './support';

const RETRY_ATTEMPTS = 2;
const ARMED = 5;

/**
 * [fault kind, the run's error code, transient, requests that hit the fault] — as the connector
 * classifies iSAMS failures on a whole-key fetch. A permanent error is not retried; a transient
 * error document is retried up to RETRY_ATTEMPTS; a document that breaks after records were read
 * is not retried (a retry would duplicate them; the run fails and is run again later). Time-outs
 * and deadlocks make the connector fetch in method groups instead: see the scenarios below.
 */
const FAULTS = [
  ['invalidKey', 'ISAMS_INVALID_KEY', false, 1],
  ['methodsNotAllocated', 'ISAMS_METHODS_NOT_ALLOCATED', false, 1],
  ['ipRefused', 'ISAMS_IP_NOT_ALLOWED', false, 1],
  ['throttled', 'ISAMS_THROTTLED', true, RETRY_ATTEMPTS],
  ['truncated', 'ISAMS_TRUNCATED_DOCUMENT', true, 1],
  ['malformed', 'ISAMS_MALFORMED_DOCUMENT', false, 1],
  // An RST mid-body reaches the client as ECONNRESET or as a plain early end of the stream (the
  // kernel may report the end before the reset): a cut document.
  ['connectionReset', ['ISAMS_CONNECTION_RESET', 'ISAMS_TRUNCATED_DOCUMENT'], true, 1],
] as const;

/**
 * Faults a smaller request can avoid, in the order they run (each one's requests depend on the
 * method groups the previous ones left): [kind, code, armed, requests that hit it, datasets of the
 * group that still failed alone]. Every request is tried RETRY_ATTEMPTS times.
 */
const GROUP_FAULTS = [
  // Groups now: HR+School (6) … ; the first group is split to one method: 6 → 3 → 2 → 1.
  ['lockTimeout', 'ISAMS_SERVER_BUSY', 20, 3 * RETRY_ATTEMPTS, 'HR Manager – Current Staff'],
  // Groups now start with Current Staff alone.
  ['timeout35s', 'ISAMS_TIMEOUT', 20, RETRY_ATTEMPTS, 'HR Manager – Current Staff'],
] as const;

interface ArmedFault {
  kind: string;
  remaining: number;
}

/**
 * Every simulator fault, end to end: the run ends with the right status and code as the gateway
 * shows it to the admin, and nothing in the roster changes.
 */
describe('e2e: every iSAMS fault through the real processes', () => {
  let system: RunningSystem;
  let clients: ServiceClients;
  let school: School;
  let reference: RosterSnapshot;

  beforeAll(async () => {
    system = await startSystem({
      // Fewer, quicker client retries so a fault armed for 5 requests outlasts them.
      env: { connector: { ISAMS_RETRY_ATTEMPTS: String(RETRY_ATTEMPTS), ISAMS_RETRY_BASE_MS: '100ms' } },
    });
    clients = serviceClients(system);
    // A server that closes the connection after every response: every fault below over that too.
    school = await School.create(system, 'e2e-faults', 5, { connection: 'close' });
    const first = await school.sync();
    expect(first.status, JSON.stringify(first.error)).toBe('applied');
    reference = await rosterSnapshot(clients, school.id);
  }, 300_000);

  afterAll(async () => {
    clients?.close();
    await system?.stop();
  }, 90_000);

  const armedFaults = async () => ((await school.sim('GET', '/faults')) as { faults: ArmedFault[] }).faults;

  /** The roster is exactly as after the first sync. */
  const expectRosterUnchanged = async () =>
    expect(snapshotDiff(await rosterSnapshot(clients, school.id), reference)).toEqual([]);

  /**
   * Arms `times` of the fault `kind` and syncs: the run fails, `check` looks at it (and at the
   * faults still armed) before they are disarmed, and the roster is unchanged.
   */
  async function failsUnderFault(kind: string, times: number, check: (run: SyncRun) => Promise<void>) {
    await school.sim('POST', '/faults', { kind, times });
    try {
      const run = await school.sync();
      expect(run.status, JSON.stringify(run)).toBe('failed');
      await check(run);
    } finally {
      await school.sim('DELETE', '/faults');
    }
    await expectRosterUnchanged();
  }

  /** Arms `times` of the fault `kind` and syncs: the run ends unchanged, every armed fault used, the roster unchanged. */
  async function unchangedUnderFault(kind: string, times: number): Promise<SyncRun> {
    await school.sim('POST', '/faults', { kind, times });
    const run = await school.sync();
    expect(run.status, JSON.stringify(run.error)).toBe('unchanged');
    expect(await armedFaults()).toEqual([]);
    await expectRosterUnchanged();
    return run;
  }

  for (const [kind, code, transient, requests] of FAULTS) {
    const codes: readonly string[] = typeof code === 'string' ? [code] : code;
    it(`${kind}: run failed with ${codes.join(' or ')} (transient ${transient}), roster unchanged`, async () => {
      await failsUnderFault(kind, ARMED, async (run) => {
        expect(codes).toContain(run.error?.code);
        expect(run.error?.transient).toBe(transient);
        expect(run.error?.adminAction?.length ?? 0).toBeGreaterThan(10);
        // The fault (not something else) failed the run, after exactly the expected requests.
        expect(await armedFaults()).toEqual([{ kind, remaining: ARMED - requests }]);
      });
    }, 180_000);
  }

  it('a deadlock that outlasts the whole-key retries: fetched in method groups, same data, run unchanged', async () => {
    // Whole key twice, the HR + School Manager group twice (then split in two), its first half once.
    const run = await unchangedUnderFault('deadlock', 5);
    expect(run.fetch?.mode).toBe('groups');
    expect(run.fetch?.groups.map((g) => g.datasetIds.length)).toEqual([3, 3, 4, 4]);
  }, 180_000);

  for (const [kind, code, armed, requests, dataset] of GROUP_FAULTS) {
    it(`${kind} that outlasts every split: failed with ${code} naming ${dataset}, roster unchanged`, async () => {
      await failsUnderFault(kind, armed, async (run) => {
        expect(run.error).toMatchObject({ code, transient: true });
        expect(run.error?.message).toContain(`(${dataset})`);
        expect(run.error?.adminAction).toMatch(/method groups/);
        expect(await armedFaults()).toEqual([{ kind, remaining: armed - requests }]);
      });
    }, 180_000);
  }

  it('slow: the document arrives late, the run ends unchanged', async () => {
    await unchangedUnderFault('slow', 1);
  }, 180_000);

  it('a transient fault once: the retry recovers and the run ends unchanged', async () => {
    await unchangedUnderFault('deadlock', 1);
  }, 180_000);
});
