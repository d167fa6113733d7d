import { startSystem, type RunningSystem } from '@isams-sync/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  rosterSnapshot,
  School,
  serviceClients,
  snapshotDiff,
  type RosterSnapshot,
  type ServiceClients,
} from '../support';

/** [fault kind, the run's error code, transient] — as the connector classifies iSAMS failures. */
const FAULTS = [
  ['invalidKey', 'ISAMS_INVALID_KEY', false],
  ['methodsNotAllocated', 'ISAMS_METHODS_NOT_ALLOCATED', false],
  ['ipRefused', 'ISAMS_IP_NOT_ALLOWED', false],
  ['throttled', 'ISAMS_THROTTLED', true],
  ['deadlock', 'ISAMS_SERVER_BUSY', true],
  ['lockTimeout', 'ISAMS_SERVER_BUSY', true],
  ['timeout35s', 'ISAMS_TIMEOUT', true],
  ['truncated', 'ISAMS_TRUNCATED_DOCUMENT', true],
  ['malformed', 'ISAMS_MALFORMED_DOCUMENT', false],
  ['connectionReset', 'ISAMS_CONNECTION_RESET', true],
] as const;

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
      env: { connector: { ISAMS_RETRY_ATTEMPTS: '2', ISAMS_RETRY_BASE_MS: '100ms' } },
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

  for (const [kind, code, transient] of FAULTS) {
    it(`${kind}: run failed with ${code}, roster unchanged`, async () => {
      await school.sim('POST', '/faults', { kind, times: 5 });
      try {
        const run = await school.sync();
        expect(run.status).toBe('failed');
        expect(run.error).toMatchObject({ code, transient });
        expect(run.error?.adminAction?.length ?? 0).toBeGreaterThan(10);
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
    expect(snapshotDiff(await rosterSnapshot(clients, school.id), reference)).toEqual([]);
  }, 180_000);

  it('a transient fault once: the retry recovers and the run ends unchanged', async () => {
    await school.sim('POST', '/faults', { kind: 'deadlock', times: 1 });
    const run = await school.sync();
    expect(run.status, JSON.stringify(run.error)).toBe('unchanged');
    expect(snapshotDiff(await rosterSnapshot(clients, school.id), reference)).toEqual([]);
  }, 180_000);
});
