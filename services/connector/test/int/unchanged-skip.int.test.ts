import { datasetSnapshotCompletedV1 } from '@isams-sync/events';
import type { EventProducer } from '@isams-sync/kafka';
import { eventually } from '@isams-sync/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  enrolSchool,
  readAll,
  useConnectorSuite,
  fakeRosterProducer,
  rosterReportEvent,
} from '../support/connector-harness';

const KEY = '{DDDDDDDD-0000-0000-0000-000000000001}';
const TENANT = 'same-school';

describe('connector: unchanged skip after the roster applied the same data', () => {
  const suite = useConnectorSuite({ env: { MANUAL_TRIGGER_LIMIT: '20' } });
  let producer: EventProducer;

  beforeAll(async () => {
    await enrolSchool(suite.sim, suite.client, TENANT, { seed: 9, size: 'small', apiKey: KEY });
    producer = fakeRosterProducer();
  });
  afterAll(async () => {
    await producer?.disconnect();
  });

  /** How many fetches ended on the applied document's bytes (the connector's fetch metric). */
  const knownFetches = async (): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${suite.app.opsPort}/metrics`)).text();
    const line = text
      .split('\n')
      .find((l) => l.startsWith('connector_fetch_duration_seconds_count{') && l.includes('outcome="known"'));
    return line === undefined ? 0 : Number(line.split(' ').at(-1));
  };

  const runToEnd = async (): Promise<string> => {
    const { run } = await suite.client.triggerSync({}, suite.client.md(TENANT));
    await eventually(async () => {
      const r = await suite.client.getSyncRun({ syncRunId: run!.syncRunId }, suite.client.md(TENANT));
      return ['published', 'unchanged', 'failed'].includes(r.status);
    }, 'run end');
    return run!.syncRunId;
  };

  /** What the roster publishes once it applied a snapshot. */
  const rosterReports = async (syncRunId: string, status: 'applying' | 'applied', sequence: number) => {
    const ev = rosterReportEvent({
      tenantId: TENANT,
      syncRunId,
      status,
      sequence,
      counts: { pupil: { added: 300 } },
    });
    await producer.publish(suite.env.runsTopic, [ev]);
  };

  it('publishes, learns the roster applied it, then ends an identical fetch `unchanged` without publishing', async () => {
    const first = await runToEnd();
    expect((await suite.client.getSyncRun({ syncRunId: first }, suite.client.md(TENANT))).status).toBe(
      'published',
    );
    // Without an applied snapshot nothing is skipped.
    const second = await runToEnd();
    expect((await suite.client.getSyncRun({ syncRunId: second }, suite.client.md(TENANT))).status).toBe(
      'published',
    );

    await rosterReports(second, 'applying', 0);
    await rosterReports(second, 'applied', 1);
    const applied = await eventually(async () => {
      const r = await suite.client.getSyncRun({ syncRunId: second }, suite.client.md(TENANT));
      return r.status === 'applied' ? r : undefined;
    }, 'roster report applied');
    expect(applied.rosterStatus).toBe('applied');
    expect(JSON.parse(applied.rosterCountsJson)).toMatchObject({ pupil: { added: 300 } });
    expect(applied.finishedAt).not.toBe('');

    const third = await runToEnd();
    const unchanged = await suite.client.getSyncRun({ syncRunId: third }, suite.client.md(TENANT));
    expect(unchanged.status).toBe('unchanged');
    expect(unchanged.datasets).toHaveLength(14);
    // The same bytes as the applied run's document: downloaded, not parsed (the byte-identical
    // skip), with the applied run's datasets.
    expect(await knownFetches()).toBe(1);
    expect(unchanged.datasets).toEqual(applied.datasets);
    expect(unchanged.finishedAt).not.toBe('');
    const raw = await readAll(suite.env.rawTopic);
    expect(raw.filter((m) => m.event.syncrunid === third)).toEqual([]);
    // Still recorded and visible.
    const listed = await suite.client.listSyncRuns({ statuses: ['unchanged'] }, suite.client.md(TENANT));
    expect(listed.runs.map((r) => r.syncRunId)).toEqual([third]);

    // A change in iSAMS (one pupil's surname) → published again.
    const truth = (await suite.sim.admin(
      'GET',
      `/admin/schools/${TENANT}/ground-truth?datasets=currentPupils`,
    )) as { datasets: { currentPupils: Array<{ attributes: Record<string, string> }> } };
    const pupilId =
      truth.datasets.currentPupils[0]!.attributes.Id ?? truth.datasets.currentPupils[0]!.attributes.id;
    await suite.sim.admin('PATCH', `/admin/schools/${TENANT}/pupils/${pupilId}`, {
      surname: 'Changed-Surname',
    });
    const fourth = await runToEnd();
    expect((await suite.client.getSyncRun({ syncRunId: fourth }, suite.client.md(TENANT))).status).toBe(
      'published',
    );
    expect(await knownFetches()).toBe(1);
    const marker = (await readAll(suite.env.rawTopic)).find(
      (m) => m.event.syncrunid === fourth && m.event.type === datasetSnapshotCompletedV1.type,
    );
    expect(marker).toBeDefined();
  });

  it('a dataset the key stops returning is a change too (never unchanged)', async () => {
    const last = (await suite.client.listSyncRuns({ statuses: ['published'] }, suite.client.md(TENANT)))
      .runs[0]!.syncRunId;
    await rosterReports(last, 'applied', 5);
    await eventually(
      async () =>
        (await suite.client.getSyncRun({ syncRunId: last }, suite.client.md(TENANT))).status === 'applied',
      'applied',
    );
    await suite.sim.admin('DELETE', `/admin/schools/${TENANT}/key/datasets/customGroups`);
    const id = await runToEnd();
    const r = await suite.client.getSyncRun({ syncRunId: id }, suite.client.md(TENANT));
    expect(r.status).toBe('published');
    expect(r.absentDatasets).toEqual(['Pupil Manager – Custom Groups']);
  });
});
