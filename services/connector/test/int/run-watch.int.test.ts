import { describe, expect, it } from 'vitest';
import { enrolSchool, useConnectorSuite } from '../support/connector-harness';

const KEY = '{AAAAAAAA-0000-0000-0000-00000000b0a7}';

/**
 * WatchSyncRun (the gateway's live view, the dashboard's server-sent events) wakes at the connector's
 * own writes of the run: with a poll far longer than the test, the run's steps and its end still
 * arrive as they happen.
 */
describe('WatchSyncRun: woken by the run’s writes, not its poll', () => {
  const suite = useConnectorSuite({ overrides: { watchPollMs: 10 * 60_000 } });

  it('streams a run from its request to its end without waiting for a poll', async () => {
    const tenant = 'watch-woken';
    await enrolSchool(suite.sim, suite.client, tenant, { seed: 4, size: 'small', apiKey: KEY });
    await suite.sim.fault(tenant, 'invalidKey', 5);
    const { run } = await suite.client.triggerSync({}, suite.client.md(tenant));
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('the watch waited for its poll')), 30_000).unref(),
    );
    const seen = await Promise.race([suite.client.watch(tenant, run!.syncRunId), timeout]);
    expect(seen.at(-1)?.status).toBe('failed');
    expect(seen.at(-1)?.error?.code).toBe('ISAMS_INVALID_KEY');
    // Each status seen once, in order, the run's end last.
    const statuses = seen.map((r) => r.status);
    expect(new Set(statuses).size).toBe(statuses.length);
    expect(statuses.indexOf('failed')).toBe(statuses.length - 1);
  });
});
