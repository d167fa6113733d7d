import { datasetSnapshotCompletedV1, rawDatasetChunkV1, syncRunUpdatedV1 } from '@isams-sync/events';
import { DATASETS, DATASET_IDS } from '@isams-sync/isams';
import { GrpcCallError } from '@isams-sync/grpc';
import { MongoClient } from 'mongodb';
import { getTestInfra } from '@isams-sync/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { readTopic, useConnectorSuite } from '../support/connector-harness';

const KEY = '{11111111-2222-3333-4444-555566667777}';
const TENANT = 'school-a';

// One simulator (with school sim-a) and connector for every describe below, started once for the
// file: the tests run in file order, the later ones using the settings of TENANT saved earlier.
const suite = useConnectorSuite();
beforeAll(() => suite.sim.createSchool('sim-a', { seed: 11, size: 'small', apiKey: KEY }));

describe('connector settings: validation, the stored key, time zone and contacts', () => {
  it('rejects bad settings with INVALID_ARGUMENT and field details', async () => {
    const err = await suite.client
      .putSettings(
        { isamsUrl: 'http://school.example.com', apiKey: KEY, enabled: true },
        suite.client.md(TENANT),
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GrpcCallError);
    expect((err as GrpcCallError).errorCode).toBe('CONNECTOR_INVALID_ARGUMENT');
    expect((err as GrpcCallError).grpcMessage).toContain('https');
    const noKey = await suite.client
      .putSettings({ isamsUrl: suite.sim.url, enabled: true }, suite.client.md('school-new'))
      .catch((e: unknown) => e);
    expect((noKey as GrpcCallError).errorCode).toBe('CONNECTOR_KEY_REQUIRED');
  });

  it('stores the key encrypted and only ever returns its last 4 characters', async () => {
    const saved = await suite.client.putSettings(
      { isamsUrl: suite.sim.url, apiKey: KEY, format: 'xml', scheduleMinutes: 0, enabled: true },
      suite.client.md(TENANT),
    );
    expect(saved).toMatchObject({
      configured: true,
      keyLast4: '7777',
      scheduleMinutes: 60,
      format: 'xml',
      enabled: true,
      updatedBy: 'admin:1',
    });
    expect(JSON.stringify(saved)).not.toContain('5555-6666');
    const got = await suite.client.getSettings({}, suite.client.md(TENANT));
    expect(got.keyLast4).toBe('7777');
    const mongo = new MongoClient(getTestInfra().mongoUrl);
    await mongo.connect();
    try {
      const doc = await mongo
        .db(suite.env.mongoDb)
        .collection('data_source_settings')
        .findOne({ _id: TENANT as never });
      expect(JSON.stringify(doc)).not.toContain('5555-6666');
      expect(doc?.key).toMatchObject({ kekId: 'k1' });
    } finally {
      await mongo.close();
    }
    // Another school sees nothing.
    expect((await suite.client.getSettings({}, suite.client.md('school-other'))).configured).toBe(false);
  });

  it('refuses a key pasted with an invisible character (zero-width space): named, never echoed, the working key kept', async () => {
    const before = await suite.client.getSettings({}, suite.client.md(TENANT));
    const err = await suite.client
      .putSettings(
        { isamsUrl: suite.sim.url, apiKey: `${KEY}\u200b`, enabled: true },
        suite.client.md(TENANT),
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GrpcCallError);
    expect((err as GrpcCallError).errorCode).toBe('CONNECTOR_INVALID_ARGUMENT');
    expect((err as GrpcCallError).grpcMessage).toContain('apiKey: contains an invisible character (U+200B)');
    expect((err as GrpcCallError).grpcMessage).not.toContain('11111111');
    expect((err as GrpcCallError).details).toMatchObject({ field: 'apiKey' });
    const after = await suite.client.getSettings({}, suite.client.md(TENANT));
    expect(after.keyLast4).toBe('7777');
    expect(after.keyUpdatedAt).toBe(before.keyUpdatedAt);
    expect((await suite.client.testConnection({}, suite.client.md(TENANT))).ok).toBe(true);
  });

  it('stores the time zone and who is notified; an empty time zone keeps the stored one', async () => {
    const tenant = 'school-tz';
    const first = await suite.client.putSettings(
      { isamsUrl: suite.sim.url, apiKey: KEY, enabled: true },
      suite.client.md(tenant),
    );
    expect(first).toMatchObject({ timeZone: 'Europe/London', notificationEmails: [] });
    const saved = await suite.client.putSettings(
      {
        isamsUrl: suite.sim.url,
        enabled: true,
        timeZone: 'america/new_york',
        notificationEmails: [' bursar@School.ORG ', 'head@school.org', 'bursar@school.org'],
      },
      suite.client.md(tenant),
    );
    expect(saved).toMatchObject({
      timeZone: 'America/New_York',
      notificationEmails: ['bursar@school.org', 'head@school.org'],
    });
    const kept = await suite.client.putSettings(
      { isamsUrl: suite.sim.url, enabled: true, notificationEmails: ['head@school.org'] },
      suite.client.md(tenant),
    );
    expect(kept).toMatchObject({ timeZone: 'America/New_York', notificationEmails: ['head@school.org'] });
    expect(await suite.client.getSettings({}, suite.client.md(tenant))).toMatchObject({
      timeZone: 'America/New_York',
      notificationEmails: ['head@school.org'],
    });

    const badZone = await suite.client
      .putSettings(
        { isamsUrl: suite.sim.url, enabled: true, timeZone: 'Mars/Olympus' },
        suite.client.md(tenant),
      )
      .catch((e: unknown) => e);
    expect((badZone as GrpcCallError).errorCode).toBe('CONNECTOR_INVALID_ARGUMENT');
    expect((badZone as GrpcCallError).grpcMessage).toContain('timeZone');
    const badEmail = await suite.client
      .putSettings(
        { isamsUrl: suite.sim.url, enabled: true, notificationEmails: ['head@school.org', 'not an address'] },
        suite.client.md(tenant),
      )
      .catch((e: unknown) => e);
    expect((badEmail as GrpcCallError).errorCode).toBe('CONNECTOR_INVALID_ARGUMENT');
    expect((badEmail as GrpcCallError).grpcMessage).toContain('notificationEmails[1]');
    // A refused save changes nothing.
    expect(await suite.client.getSettings({}, suite.client.md(tenant))).toMatchObject({
      timeZone: 'America/New_York',
      notificationEmails: ['head@school.org'],
    });
  });
});

describe('connector: test connection and what to allow-list in iSAMS', () => {
  it('test connection reports every dataset by its admin name with counts, and publishes nothing', async () => {
    const r = await suite.client.testConnection({}, suite.client.md(TENANT));
    expect(r.ok).toBe(true);
    expect(r.datasets).toHaveLength(14);
    expect(r.datasets.every((d) => d.present)).toBe(true);
    expect(r.datasets.find((d) => d.datasetId === 'teachingSetLists')?.adminName).toBe(
      'Teaching Manager – Teaching Set Lists',
    );
    expect(Number(r.datasets.find((d) => d.datasetId === 'currentPupils')?.recordCount)).toBeGreaterThan(0);
    expect(r.missing).toEqual([]);

    await suite.sim.admin('DELETE', '/admin/schools/sim-a/key/datasets/teachingSetLists');
    const partial = await suite.client.testConnection({}, suite.client.md(TENANT));
    expect(partial.ok).toBe(false);
    expect(partial.missing).toEqual(['Teaching Manager – Teaching Set Lists']);
    await suite.sim.admin('POST', '/admin/schools/sim-a/key/datasets/teachingSetLists');

    const bad = await suite.client.testConnection(
      { apiKey: '{00000000-0000-0000-0000-000000000000}' },
      suite.client.md(TENANT),
    );
    expect(bad.ok).toBe(false);
    expect(bad.error?.code).toBe('ISAMS_INVALID_KEY');
    expect(bad.error?.adminAction).toContain('API Services Manager');

    // iSAMS refuses our address: the test says which addresses to allow-list.
    await suite.sim.fault('sim-a', 'ipRefused', 2);
    const refused = await suite.client.testConnection({}, suite.client.md(TENANT));
    await suite.sim.admin('DELETE', '/admin/schools/sim-a/faults');
    expect(refused.error?.code).toBe('ISAMS_IP_NOT_ALLOWED');
    expect(refused.error?.adminAction).toContain('egress IP addresses: 203.0.113.10, 203.0.113.11.');
  });

  it('lists the egress IPs and Integrator Properties', async () => {
    const info = await suite.client.getEgressInfo({}, suite.client.md(TENANT));
    expect(info.egressIps).toEqual(['203.0.113.10', '203.0.113.11']);
    expect(info.integratorProperties).toEqual(['School Cloud Systems', 'SchoolCloud Clubs & Events']);
    expect(info.datasets).toHaveLength(14);
    expect(info.datasets[0]).toBe('HR Manager Datasets - Current Staff');
    expect(info.datasets).toContain('Pupil Manager Datasets - Contacts (Filtered)');
    expect(info.instructions).toContain('refresh every hour');
  });
});

describe('connector: a manual run end to end, and the list of runs', () => {
  it('a manual run fetches, publishes every dataset in chunks and then the run-complete marker', async () => {
    const { run, alreadyActive } = await suite.client.triggerSync(
      { dryRun: false },
      suite.client.md(TENANT, 'admin:42'),
    );
    expect(alreadyActive).toBe(false);
    expect(run?.trigger).toEqual({ kind: 'manual', actor: 'admin:42' });
    const id = run!.syncRunId;
    const done = await suite.client.runReaching(TENANT, id, ['published'], 'run published');
    expect(done.datasets).toHaveLength(14);
    expect(done.absentDatasets).toEqual([]);
    expect(done.fetchedAt).not.toBe('');
    expect(Number(done.progress?.recordsFetched)).toBeGreaterThan(0);

    const msgs = await readTopic(suite.env.rawTopic, (m) =>
      m.some((x) => x.event.type === datasetSnapshotCompletedV1.type && x.event.syncrunid === id),
    );
    const mine = msgs.filter((m) => m.event.syncrunid === id);
    expect(mine.every((m) => m.key === TENANT)).toBe(true);
    const marker = datasetSnapshotCompletedV1.parse(mine.at(-1)!.event);
    expect(marker.data.datasets.map((d) => d.datasetId).sort()).toEqual([...DATASET_IDS].sort());
    expect(marker.data.trigger).toEqual({ kind: 'manual', actor: 'admin:42' });
    const chunks = mine
      .filter((m) => m.event.type === rawDatasetChunkV1.type)
      .map((m) => rawDatasetChunkV1.parse(m.event));
    for (const d of marker.data.datasets) {
      const own = chunks.filter((c) => c.data.datasetId === d.datasetId);
      expect(own).toHaveLength(d.chunkCount);
      expect(own.reduce((n, c) => n + c.data.records.length, 0)).toBe(d.recordCount);
      expect(own.every((c) => c.data.datasetFingerprint === d.fingerprint)).toBe(true);
    }
    // Records are lossless: they equal the simulator's served rows.
    const truth = (await suite.sim.admin(
      'GET',
      '/admin/schools/sim-a/ground-truth?datasets=currentPupils',
    )) as {
      datasets: { currentPupils: unknown[] };
    };
    const pupils = chunks.filter((c) => c.data.datasetId === 'currentPupils').flatMap((c) => c.data.records);
    expect(pupils).toHaveLength(truth.datasets.currentPupils.length);
    expect(pupils[0]?.name).toBe(DATASETS.currentPupils.row);

    const lifecycle = await readTopic(suite.env.runsTopic, (m) =>
      m.some((x) => x.event.syncrunid === id && (x.event.data as { status: string }).status === 'published'),
    );
    const statuses = lifecycle
      .filter((m) => m.event.syncrunid === id)
      .map((m) => syncRunUpdatedV1.parse(m.event).data.status);
    expect(statuses[0]).toBe('requested');
    expect(statuses).toContain('fetching');
    expect(statuses).toContain('fetched');
    expect(statuses.at(-1)).toBe('published');
  });

  it('lists runs newest first with paging and filters', async () => {
    const page1 = await suite.client.listSyncRuns(
      { page: { pageSize: 1 }, statuses: [], triggerKind: 'manual' },
      suite.client.md(TENANT),
    );
    expect(page1.runs).toHaveLength(1);
    expect(page1.runs[0]?.trigger?.kind).toBe('manual');
    const none = await suite.client.listSyncRuns({ statuses: ['failed'] }, suite.client.md(TENANT));
    expect(none.runs).toHaveLength(0);
    // The only page tokens taken are those the list hands out (base64url of a whole offset).
    const b64 = (text: string) => Buffer.from(text).toString('base64url');
    const offset1 = await suite.client.listSyncRuns(
      { page: { pageSize: 1, pageToken: b64('1') }, statuses: [] },
      suite.client.md(TENANT),
    );
    expect(offset1.page?.totalSize).toBe(page1.page?.totalSize);
    for (const pageToken of [
      '%%%',
      '!',
      b64(' 1 '),
      b64('0x1'),
      b64('1e3'),
      b64('01'),
      b64('-1'),
      b64('1.0'),
      'MQ==',
      ' MQ',
    ]) {
      const bad = await suite.client
        .listSyncRuns({ page: { pageSize: 1, pageToken }, statuses: [] }, suite.client.md(TENANT))
        .catch((e: unknown) => e);
      expect(bad, pageToken).toBeInstanceOf(GrpcCallError);
      expect((bad as GrpcCallError).errorCode, pageToken).toBe('CONNECTOR_INVALID_ARGUMENT');
      expect((bad as GrpcCallError).details, pageToken).toMatchObject({ field: 'page.pageToken' });
    }
    const missing = await suite.client
      .getSyncRun({ syncRunId: 'nope' }, suite.client.md(TENANT))
      .catch((e: unknown) => e);
    expect((missing as GrpcCallError).errorCode).toBe('CONNECTOR_RUN_NOT_FOUND');
  });
});
