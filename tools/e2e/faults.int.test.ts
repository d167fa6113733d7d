import { startSystem, type RunningSystem } from '@isams-sync/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  rosterSnapshot,
  School,
  serviceClients,
  snapshotDiff,
  type RosterSnapshot,
  type ServiceClients,
} from './support';

const RETRY_ATTEMPTS = 2;
const ARMED = 5;

/**
 * [fault kind, the run's error code, transient, requests that hit the fault] — as the connector
 * classifies iSAMS failures. A permanent error is not retried; a transient error document is
 * retried up to RETRY_ATTEMPTS; a document that breaks after records were read is not retried
 * (a retry would duplicate them; the run fails and is run again later).
 */
const FAULTS = [
  ['invalidKey', 'ISAMS_INVALID_KEY', false, 1],
  ['methodsNotAllocated', 'ISAMS_METHODS_NOT_ALLOCATED', false, 1],
  ['ipRefused', 'ISAMS_IP_NOT_ALLOWED', false, 1],
  ['throttled', 'ISAMS_THROTTLED', true, RETRY_ATTEMPTS],
  ['deadlock', 'ISAMS_SERVER_BUSY', true, RETRY_ATTEMPTS],
  ['lockTimeout', 'ISAMS_SERVER_BUSY', true, RETRY_ATTEMPTS],
  ['timeout35s', 'ISAMS_TIMEOUT', true, RETRY_ATTEMPTS],
  ['truncated', 'ISAMS_TRUNCATED_DOCUMENT', true, 1],
  ['malformed', 'ISAMS_MALFORMED_DOCUMENT', false, 1],
  // An RST mid-body reaches the client as ECONNRESET or as a plain early end of the stream (the
  // kernel may report the end before the reset): a cut document.
  ['connectionReset', ['ISAMS_CONNECTION_RESET', 'ISAMS_TRUNCATED_DOCUMENT'], true, 1],
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
    school = await School.create(system, 'e2e-faults', 5);
    const first = await school.sync();
    expect(first.status, JSON.stringify(first.error)).toBe('applied');
    reference = await rosterSnapshot(clients, school.id);
  }, 300_000);

  afterAll(async () => {
    clients?.close();
    await system?.stop();
  }, 90_000);

  const armedFaults = async () => ((await school.sim('GET', '/faults')) as { faults: ArmedFault[] }).faults;

  for (const [kind, code, transient, requests] of FAULTS) {
    const codes: readonly string[] = typeof code === 'string' ? [code] : code;
    it(`${kind}: run failed with ${codes.join(' or ')} (transient ${transient}), roster unchanged`, async () => {
      await school.sim('POST', '/faults', { kind, times: ARMED });
      try {
        const run = await school.sync();
        expect(run.status, JSON.stringify(run)).toBe('failed');
        expect(codes).toContain(run.error?.code);
        expect(run.error?.transient).toBe(transient);
        expect(run.error?.adminAction?.length ?? 0).toBeGreaterThan(10);
        // The fault (not something else) failed the run, after exactly the expected requests.
        expect(await armedFaults()).toEqual([{ kind, remaining: ARMED - requests }]);
      } finally {
        await school.sim('DELETE', '/faults');
      }
      expect(snapshotDiff(await rosterSnapshot(clients, school.id), reference)).toEqual([]);
    }, 180_000);
  }

  it('slow: the document arrives late, the run ends unchanged', async () => {
    await school.sim('POST', '/faults', { kind: 'slow', times: 1 });
    const run = await school.sync();
    expect(run.status, JSON.stringify(run.error)).toBe('unchanged');
    expect(await armedFaults()).toEqual([]);
    expect(snapshotDiff(await rosterSnapshot(clients, school.id), reference)).toEqual([]);
  }, 180_000);

  it('a transient fault once: the retry recovers and the run ends unchanged', async () => {
    await school.sim('POST', '/faults', { kind: 'deadlock', times: 1 });
    const run = await school.sync();
    expect(run.status, JSON.stringify(run.error)).toBe('unchanged');
    expect(await armedFaults()).toEqual([]);
    expect(snapshotDiff(await rosterSnapshot(clients, school.id), reference)).toEqual([]);
  }, 180_000);
});
