import { eventually } from '@isams-sync/testing';
import { rawDatasetChunkV1 } from '@isams-sync/events';
import { describe, expect, it } from 'vitest';
import {
  enrolSchool,
  expectUncommitted,
  readAll,
  readCollection,
  useConnectorSuite,
} from '../support/connector-harness';

/**
 * [fault, code, transient, requests it is armed for]. A time-out or deadlock makes the connector
 * fetch the key in method groups, splitting a group that still fails down to one method
 * (ISAMS_RETRY_ATTEMPTS=2 per request): whole key 2 + groups of 6, 3, 2 and 1 datasets 2 each = 10
 * requests before the run gives up, so those faults are armed for more.
 */
const FAULTS = [
  ['invalidKey', 'ISAMS_INVALID_KEY', false, 5],
  ['methodsNotAllocated', 'ISAMS_METHODS_NOT_ALLOCATED', false, 5],
  ['ipRefused', 'ISAMS_IP_NOT_ALLOWED', false, 5],
  ['throttled', 'ISAMS_THROTTLED', true, 5],
  ['deadlock', 'ISAMS_SERVER_BUSY', true, 20],
  ['lockTimeout', 'ISAMS_SERVER_BUSY', true, 20],
  ['timeout35s', 'ISAMS_TIMEOUT', true, 20],
  ['truncated', 'ISAMS_TRUNCATED_DOCUMENT', true, 5],
  ['malformed', 'ISAMS_MALFORMED_DOCUMENT', false, 5],
  // An RST mid-body reaches the client as ECONNRESET or, when it lands while we are still draining
  // the receive queue under backpressure, as a plain early end of the stream: a cut document.
  ['connectionReset', ['ISAMS_CONNECTION_RESET', 'ISAMS_TRUNCATED_DOCUMENT'], true, 5],
] as const;

const keyFor = (i: number) => `{AAAAAAAA-0000-0000-0000-${String(i).padStart(12, '0')}}`;

describe('connector: every simulator fault ends the run failed with the right code and commits nothing', () => {
  const suite = useConnectorSuite();
  const failedRunIds: string[] = [];

  FAULTS.forEach(([kind, code, transient, armed], i) => {
    const codes: readonly string[] = typeof code === 'string' ? [code] : code;
    it(`${kind} → failed with ${codes.join(' or ')} (transient: ${transient}) and what the admin should do`, async () => {
      const tenant = `fault-${i}`;
      await enrolSchool(suite.sim, suite.client, tenant, { seed: 3, size: 'small', apiKey: keyFor(i) });
      // More faults than client attempts (ISAMS_RETRY_ATTEMPTS=2), so retries cannot hide it.
      await suite.sim.fault(tenant, kind, armed);
      const { run } = await suite.client.triggerSync({}, suite.client.md(tenant));
      const seen = await suite.client.watch(tenant, run!.syncRunId);
      const last = seen.at(-1)!;
      expect(last.status).toBe('failed');
      expect(codes).toContain(last.error?.code);
      expect(last.error?.transient).toBe(transient);
      expect(last.error?.adminAction.length).toBeGreaterThan(10);
      // iSAMS refused our address: the admin is told exactly which addresses to allow (EGRESS_IPS).
      if (kind === 'ipRefused') expect(last.error?.adminAction).toContain('203.0.113.10, 203.0.113.11');
      expect(last.finishedAt).not.toBe('');
      expect(last.datasets).toEqual([]);
      if (armed > 5) {
        // Fetched in method groups down to one method, which still failed: the message names it.
        expect(last.error?.message).toMatch(/^Method group 1 of \d+ \(HR Manager – Current Staff\)/);
        expect(last.fetch?.mode).toBe('groups');
        const left = (await suite.sim.admin('GET', `/admin/schools/${tenant}/faults`)) as {
          faults: Array<{ remaining: number }>;
        };
        expect(left.faults).toEqual([expect.objectContaining({ kind, remaining: armed - 10 })]);
      }
      failedRunIds.push(run!.syncRunId);
      // The back-off is written just after the run is marked failed (the watch may end in between).
      if (transient)
        await eventually(async () => {
          const settings = await suite.client.getSettings({}, suite.client.md(tenant));
          return Date.parse(settings.nextRunAt) > Date.now() + 55 * 60_000 ? settings : undefined;
        }, `${tenant}: next run moved out by the back-off`);
      await suite.sim.admin('DELETE', `/admin/schools/${tenant}/faults`);
    });
  });

  it('a deadlock that outlasts the whole-key retries is ridden out by fetching in method groups', async () => {
    const tenant = 'fault-recovers';
    await enrolSchool(suite.sim, suite.client, tenant, { seed: 3, size: 'small', apiKey: keyFor(98) });
    // Whole key 2 attempts, the first group 2 more (then split), the first half once more.
    await suite.sim.fault(tenant, 'deadlock', 5);
    const { run } = await suite.client.triggerSync({}, suite.client.md(tenant));
    const last = await suite.client.runReaching(
      tenant,
      run!.syncRunId,
      ['published', 'failed'],
      'recovering run',
    );
    expect(last.status, JSON.stringify(last.error)).toBe('published');
    expect(last.datasets).toHaveLength(14);
    expect(last.fetch?.mode).toBe('groups');
    expect(last.fetch?.switchedBecause).toBe('ISAMS_SERVER_BUSY');
    expect(
      ((await suite.sim.admin('GET', `/admin/schools/${tenant}/faults`)) as { faults: unknown[] }).faults,
    ).toEqual([]);
  });

  it('a slow iSAMS within the read time-out still publishes', async () => {
    const tenant = 'fault-slow';
    await enrolSchool(suite.sim, suite.client, tenant, { seed: 3, size: 'small', apiKey: keyFor(99) });
    await suite.sim.fault(tenant, 'slow', 1);
    const { run } = await suite.client.triggerSync({}, suite.client.md(tenant));
    const r = await suite.client.runReaching(tenant, run!.syncRunId, ['published', 'failed'], 'slow run');
    expect(r.status).toBe('published');
  });

  it('a run that ends well after a failed one ends the failure streak and keeps the back-off’s next run time', async () => {
    const tenant = 'fault-then-well';
    await enrolSchool(suite.sim, suite.client, tenant, { seed: 3, size: 'small', apiKey: keyFor(97) });
    const schedule = async () => {
      const [s] = await readCollection(suite.env, 'sync_schedules', { _id: tenant });
      return { nextRunAt: s?.nextRunAt as Date, consecutiveFailures: s?.consecutiveFailures as number };
    };
    await suite.sim.fault(tenant, 'throttled', 5);
    const { run: failed } = await suite.client.triggerSync({}, suite.client.md(tenant));
    expect((await suite.client.watch(tenant, failed!.syncRunId)).at(-1)?.status).toBe('failed');
    failedRunIds.push(failed!.syncRunId);
    const backedOff = await eventually(async () => {
      const s = await schedule();
      return s.consecutiveFailures === 1 ? s : undefined;
    }, `${tenant}: the failure streak`);
    await suite.sim.admin('DELETE', `/admin/schools/${tenant}/faults`);

    const { run } = await suite.client.triggerSync({}, suite.client.md(tenant));
    const last = await suite.client.runReaching(tenant, run!.syncRunId, ['published', 'failed'], 'run after');
    expect(last.status).toBe('published');
    // The streak is written after `published` is: awaited, then the time is still the back-off's.
    await eventually(async () => (await schedule()).consecutiveFailures === 0, `${tenant}: streak ended`);
    expect(await schedule()).toEqual({ nextRunAt: backedOff.nextRunAt, consecutiveFailures: 0 });
  });

  it('no failed run sent its marker or any dataset it did not read whole', async () => {
    const all = await readAll(suite.env.rawTopic);
    expect(all.some((m) => m.event.type === rawDatasetChunkV1.type)).toBe(true);
    expect(failedRunIds.length).toBe(FAULTS.length + 1);
    expectUncommitted(all, failedRunIds);
  });
});
