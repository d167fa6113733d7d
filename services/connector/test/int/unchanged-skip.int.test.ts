import { datasetSnapshotCompletedV1, syncRunUpdatedV1 } from '@isams-sync/events';
import { createEventProducer, createKafkaClient } from '@isams-sync/kafka';
import type { EventProducer } from '@isams-sync/kafka';
import { createLogger } from '@isams-sync/logger';
import { eventually, getTestInfra, type SimulatorProcess, startSimulator } from '@isams-sync/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectorApp } from '../../src/app';
import { connectorClient, connectorTestEnv, readAll, startConnector } from '../support/connector-harness';
import type { ConnectorClient, ConnectorTestEnv } from '../support/connector-harness';

const KEY = '{DDDDDDDD-0000-0000-0000-000000000001}';
const TENANT = 'same-school';

describe('connector: unchanged skip after the roster applied the same data', () => {
  let sim: SimulatorProcess;
  let env: ConnectorTestEnv;
  let app: ConnectorApp;
  let client: ConnectorClient;
  let producer: EventProducer;

  beforeAll(async () => {
    sim = await startSimulator();
    await sim.createSchool(TENANT, { seed: 9, size: 'small', apiKey: KEY });
    env = connectorTestEnv();
    app = await startConnector(env.env({ SCHEDULER_ENABLED: 'false', MANUAL_TRIGGER_LIMIT: '20' }));
    client = connectorClient(app.grpcPort);
    await client.putSettings({ isamsUrl: sim.url, apiKey: KEY, enabled: true }, client.md(TENANT));
    producer = createEventProducer(
      createKafkaClient({
        brokers: getTestInfra().kafkaBrokers,
        clientId: 'fake-roster',
        logger: createLogger({ service: 'fake-roster', level: 'warn' }),
      }),
    );
  });
  afterAll(async () => {
    await producer?.disconnect();
    client?.close();
    await app?.stop();
    await sim?.stop();
    await env?.dropDatabase();
  });

  const runToEnd = async (): Promise<string> => {
    const { run } = await client.triggerSync({}, client.md(TENANT));
    await eventually(async () => {
      const r = await client.getSyncRun({ syncRunId: run!.syncRunId }, client.md(TENANT));
      return ['published', 'unchanged', 'failed'].includes(r.status);
    }, 'run end');
    return run!.syncRunId;
  };

  /** What the roster publishes once it applied a snapshot. */
  const rosterReports = async (syncRunId: string, status: 'applying' | 'applied', sequence: number) => {
    const ev = syncRunUpdatedV1.create({
      tenantId: TENANT,
      syncRunId,
      idParts: [syncRunId, 'roster', String(sequence)],
      data: {
        syncRunId,
        status,
        reportedBy: 'roster',
        sequence,
        at: new Date().toISOString(),
        trigger: { kind: 'manual' },
        dryRun: false,
        counts: {
          pupil: { added: 300, updated: 0, removed: 0, restored: 0, held: 0, unchanged: 0, skipped: 0 },
        },
      },
    });
    await producer.publish(env.runsTopic, [ev]);
  };

  it('publishes, learns the roster applied it, then ends an identical fetch `unchanged` without publishing', async () => {
    const first = await runToEnd();
    expect((await client.getSyncRun({ syncRunId: first }, client.md(TENANT))).status).toBe('published');
    // Without an applied snapshot nothing is skipped.
    const second = await runToEnd();
    expect((await client.getSyncRun({ syncRunId: second }, client.md(TENANT))).status).toBe('published');

    await rosterReports(second, 'applying', 0);
    await rosterReports(second, 'applied', 1);
    const applied = await eventually(async () => {
      const r = await client.getSyncRun({ syncRunId: second }, client.md(TENANT));
      return r.status === 'applied' ? r : undefined;
    }, 'roster report applied');
    expect(applied.rosterStatus).toBe('applied');
    expect(JSON.parse(applied.rosterCountsJson)).toMatchObject({ pupil: { added: 300 } });
    expect(applied.finishedAt).not.toBe('');

    const third = await runToEnd();
    const unchanged = await client.getSyncRun({ syncRunId: third }, client.md(TENANT));
    expect(unchanged.status).toBe('unchanged');
    expect(unchanged.datasets).toHaveLength(14);
    expect(unchanged.finishedAt).not.toBe('');
    const raw = await readAll(env.rawTopic);
    expect(raw.filter((m) => m.event.syncrunid === third)).toEqual([]);
    // Still recorded and visible.
    const listed = await client.listSyncRuns({ statuses: ['unchanged'] }, client.md(TENANT));
    expect(listed.runs.map((r) => r.syncRunId)).toEqual([third]);

    // A change in iSAMS (one pupil's surname) → published again.
    const truth = (await sim.admin(
      'GET',
      `/admin/schools/${TENANT}/ground-truth?datasets=currentPupils`,
    )) as { datasets: { currentPupils: Array<{ attributes: Record<string, string> }> } };
    const pupilId =
      truth.datasets.currentPupils[0]!.attributes.Id ?? truth.datasets.currentPupils[0]!.attributes.id;
    await sim.admin('PATCH', `/admin/schools/${TENANT}/pupils/${pupilId}`, { surname: 'Changed-Surname' });
    const fourth = await runToEnd();
    expect((await client.getSyncRun({ syncRunId: fourth }, client.md(TENANT))).status).toBe('published');
    const marker = (await readAll(env.rawTopic)).find(
      (m) => m.event.syncrunid === fourth && m.event.type === datasetSnapshotCompletedV1.type,
    );
    expect(marker).toBeDefined();
  });

  it('a dataset the key stops returning is a change too (never unchanged)', async () => {
    const last = (await client.listSyncRuns({ statuses: ['published'] }, client.md(TENANT))).runs[0]!
      .syncRunId;
    await rosterReports(last, 'applied', 5);
    await eventually(
      async () => (await client.getSyncRun({ syncRunId: last }, client.md(TENANT))).status === 'applied',
      'applied',
    );
    await sim.admin('DELETE', `/admin/schools/${TENANT}/key/datasets/customGroups`);
    const id = await runToEnd();
    const r = await client.getSyncRun({ syncRunId: id }, client.md(TENANT));
    expect(r.status).toBe('published');
    expect(r.absentDatasets).toEqual(['Pupil Manager – Custom Groups']);
  });
});
