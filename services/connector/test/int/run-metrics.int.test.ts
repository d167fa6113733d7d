import { eventually } from '@isams-sync/testing';
import { describe, expect, it } from 'vitest';
import { enrolSchool, useConnectorSuite } from '../support/connector-harness';

const KEY = '{AAAAAAAA-0000-0000-0000-00000000a1e7}';

/** The value of one series of the connector's `/metrics`, or 0 when it is absent. */
async function seriesValue(opsPort: number, series: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

/**
 * The series behind the `IsamsSyncRunFailed` alert (docs/deploy.md › Alerts): a run that ends
 * failed counts once under its error code (no school id label), and readiness reports its
 * dependencies.
 */
describe('connector metrics: runs by final status and error code', () => {
  const suite = useConnectorSuite();

  it('counts a failed run under its error code once it ended', async () => {
    const failed =
      'connector_sync_runs_finished_total{status="failed",error_code="ISAMS_INVALID_KEY",service="connector"}';
    expect(await seriesValue(suite.app.opsPort, failed)).toBe(0);
    const tenant = 'metrics-failed';
    await enrolSchool(suite.sim, suite.client, tenant, { seed: 3, size: 'small', apiKey: KEY });
    await suite.sim.fault(tenant, 'invalidKey', 5);
    const { run } = await suite.client.triggerSync({}, suite.client.md(tenant));
    const last = (await suite.client.watch(tenant, run!.syncRunId)).at(-1)!;
    expect(last.status).toBe('failed');
    expect(last.error?.code).toBe('ISAMS_INVALID_KEY');
    // Counted when the connector reads its own final event back from sync.runs.v1.
    await eventually(
      async () => (await seriesValue(suite.app.opsPort, failed)) === 1,
      'the failed run counted',
    );
    const text = await (await fetch(`http://127.0.0.1:${suite.app.opsPort}/metrics`)).text();
    expect(text).not.toContain(tenant);
    expect(text).toContain('isams_sync_dependency_up{dependency="kafka",service="connector"} 1');
    expect(text).toContain('isams_sync_dependency_up{dependency="mongo",service="connector"} 1');
  });
});
