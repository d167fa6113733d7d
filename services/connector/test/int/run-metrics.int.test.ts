import { eventually, type SimulatorProcess, startSimulator } from '@isams-sync/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectorApp } from '../../src/app';
import { connectorClient, connectorTestEnv, startConnector } from '../support/connector-harness';
import type { ConnectorClient, ConnectorTestEnv } from '../support/connector-harness';

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
  let sim: SimulatorProcess;
  let env: ConnectorTestEnv;
  let app: ConnectorApp;
  let client: ConnectorClient;

  beforeAll(async () => {
    sim = await startSimulator();
    env = connectorTestEnv();
    app = await startConnector(env.env({ SCHEDULER_ENABLED: 'false' }));
    client = connectorClient(app.grpcPort);
  });
  afterAll(async () => {
    client?.close();
    await app?.stop();
    await sim?.stop();
    await env?.dropDatabase();
  });

  it('counts a failed run under its error code once it ended', async () => {
    const failed =
      'connector_sync_runs_finished_total{status="failed",error_code="ISAMS_INVALID_KEY",service="connector"}';
    expect(await seriesValue(app.opsPort, failed)).toBe(0);
    const tenant = 'metrics-failed';
    await sim.createSchool(tenant, { seed: 3, size: 'small', apiKey: KEY });
    await client.putSettings({ isamsUrl: sim.url, apiKey: KEY, enabled: true }, client.md(tenant));
    await sim.fault(tenant, 'invalidKey', 5);
    const { run } = await client.triggerSync({}, client.md(tenant));
    const last = (await client.watch(tenant, run!.syncRunId)).at(-1)!;
    expect(last.status).toBe('failed');
    expect(last.error?.code).toBe('ISAMS_INVALID_KEY');
    // Counted when the connector reads its own final event back from sync.runs.v1.
    await eventually(async () => (await seriesValue(app.opsPort, failed)) === 1, 'the failed run counted');
    const text = await (await fetch(`http://127.0.0.1:${app.opsPort}/metrics`)).text();
    expect(text).not.toContain(tenant);
    expect(text).toContain('isams_sync_dependency_up{dependency="kafka",service="connector"} 1');
    expect(text).toContain('isams_sync_dependency_up{dependency="mongo",service="connector"} 1');
  });
});
