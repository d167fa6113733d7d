/**
 * The stored iSAMS key stays with its host (issue #15). Two real local hosts: host A is the
 * simulator with the school's key; host B is a hostile host that records every request it gets. No
 * way through the connector's API — test connection, saving settings, a run afterwards — and no
 * stored-data trick (an address changed in the database, another school's ciphertext, a stripped
 * binding marker) makes the connector decrypt the stored key for B or send it there.
 */
import { getTestInfra } from '@isams-sync/testing';
import { MongoClient } from 'mongodb';
import type { Collection } from 'mongodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  connectorClient,
  readCollection,
  startConnector,
  useConnectorSuite,
  useSimulatorAndEnv,
  grpcErrorOf,
} from '../support/connector-harness';
import type { ConnectorTestEnv } from '../support/connector-harness';
import { legacyKey } from '../support/legacy-key';
import { startOddIsamsHost } from '../support/odd-isams-host';
import type { OddIsamsHost } from '../support/odd-isams-host';

const KEY = '{A1A1A1A1-2222-4333-8444-555566667777}';
const NEW_KEY = '{B2B2B2B2-2222-4333-8444-555566668888}';
const SCHOOL = 'school-bound';
const OTHER = 'school-other';
const KEY_MARKERS = ['A1A1A1A1', '55556666777'];

async function withSettingsCollection<T>(
  env: ConnectorTestEnv,
  fn: (coll: Collection<Record<string, unknown>>) => Promise<T>,
): Promise<T> {
  const client = new MongoClient(getTestInfra().mongoUrl);
  await client.connect();
  try {
    return await fn(client.db(env.mongoDb).collection<Record<string, unknown>>('data_source_settings'));
  } finally {
    await client.close();
  }
}

// Host A (the simulator, where SCHOOL and OTHER are saved), host B and one connector, started once
// for the file and shared by the bound-key describes below: their tests run in file order, each
// starting from the settings the one before left. (The last describe, of keys stored before the
// binding, starts a simulator and a connector of its own.)
const suite = useConnectorSuite({ env: { MANUAL_TRIGGER_LIMIT: '100' } });
let hostB: OddIsamsHost;

/** Every request host B received, as text (its target carries any key sent to it). */
const receivedByB = () => hostB.requests.map((r) => `${r.method} ${r.target}`).join('\n');
const expectKeyNeverReachedB = () => {
  for (const marker of KEY_MARKERS) expect(receivedByB()).not.toContain(marker);
};

beforeAll(async () => {
  await suite.sim.createSchool('bound', { seed: 5, size: 'small', apiKey: KEY });
  // Host B answers every request with a bare 404 and remembers it.
  hostB = await startOddIsamsHost((socket) => {
    socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });
  await suite.client.putSettings(
    { isamsUrl: suite.sim.url, apiKey: KEY, enabled: true },
    suite.client.md(SCHOOL),
  );
  await suite.client.putSettings(
    { isamsUrl: suite.sim.url, apiKey: KEY, enabled: true },
    suite.client.md(OTHER),
  );
});
beforeEach(() => {
  hostB.requests.length = 0;
});
afterAll(async () => {
  await hostB?.close();
});

/** A dry run of `tenantId`, triggered and followed to its end. */
const runToEnd = async (tenantId: string) => {
  const { run } = await suite.client.triggerSync({ dryRun: true }, suite.client.md(tenantId));
  return suite.client.runReaching(
    tenantId,
    run!.syncRunId,
    ['published', 'failed', 'unchanged', 'cancelled'],
    'run finished',
  );
};

describe('the stored key is bound to its host: test connection with another address', () => {
  it('test connection with another address and no key is refused; host B receives nothing', async () => {
    const err = await grpcErrorOf(
      suite.client.testConnection({ isamsUrl: hostB.url }, suite.client.md(SCHOOL)),
    );
    expect(err.errorCode).toBe('CONNECTOR_KEY_REQUIRED_FOR_NEW_ADDRESS');
    expect(err.kind).toBe('invalid_argument');
    expect(err.grpcMessage).toContain('requires entering the API key again');
    expect(hostB.requests).toEqual([]);
    // The same address written differently (here with a trailing slash) is the same host.
    const same = new URL(suite.sim.url);
    const r = await suite.client.testConnection(
      { isamsUrl: `${same.protocol}//${same.host}/` },
      suite.client.md(SCHOOL),
    );
    expect(r.ok).toBe(true);
  });

  it('test connection with another address and a key sends only that key there', async () => {
    const r = await suite.client.testConnection(
      { isamsUrl: hostB.url, apiKey: NEW_KEY },
      suite.client.md(SCHOOL),
    );
    expect(r.ok).toBe(false);
    expect(hostB.requests.length).toBeGreaterThan(0);
    expect(receivedByB()).toContain(encodeURIComponent(NEW_KEY));
    expectKeyNeverReachedB();
  });
});

describe('the stored key is bound to its host: saving another address without the key', () => {
  it('saving another address without the key is refused and changes nothing; the next run still fetches from host A', async () => {
    const before = await suite.client.getSettings({}, suite.client.md(SCHOOL));
    const err = await grpcErrorOf(
      suite.client.putSettings(
        { isamsUrl: hostB.url, enabled: true, scheduleMinutes: 30 },
        suite.client.md(SCHOOL),
      ),
    );
    expect(err.errorCode).toBe('CONNECTOR_KEY_REQUIRED_FOR_NEW_ADDRESS');
    const after = await suite.client.getSettings({}, suite.client.md(SCHOOL));
    expect(after).toEqual(before);
    const run = await runToEnd(SCHOOL);
    expect(run.status).toBe('published');
    expect(hostB.requests).toEqual([]);
    // A change that keeps the host (the trailing slash) needs no key.
    const kept = await suite.client.putSettings(
      { isamsUrl: `${suite.sim.url}/`, enabled: true, scheduleMinutes: 30 },
      suite.client.md(SCHOOL),
    );
    expect(kept.scheduleMinutes).toBe(30);
    expect(kept.keyLast4).toBe(before.keyLast4);
  });
});

describe('the stored key is bound to its host: stored settings changed behind the API', () => {
  it('an address changed in the database behind the API makes the key undecryptable: the run fails, host B receives nothing', async () => {
    await withSettingsCollection(suite.env, (c) =>
      c.updateOne({ _id: SCHOOL as never }, { $set: { isamsUrl: hostB.url } }),
    );
    const run = await runToEnd(SCHOOL);
    expect(run.status).toBe('failed');
    expect(run.error?.code).toBe('CONNECTOR_KEY_DECRYPT_FAILED');
    const tested = await grpcErrorOf(suite.client.testConnection({}, suite.client.md(SCHOOL)));
    expect(tested.errorCode).toBe('CONNECTOR_KEY_DECRYPT_FAILED');
    expect(hostB.requests).toEqual([]);
    await withSettingsCollection(suite.env, (c) =>
      c.updateOne({ _id: SCHOOL as never }, { $set: { isamsUrl: suite.sim.url } }),
    );
    expect((await suite.client.testConnection({}, suite.client.md(SCHOOL))).ok).toBe(true);
  });

  it("another school's ciphertext, or a key with its binding marker stripped, does not decrypt", async () => {
    const [other] = await readCollection(suite.env, 'data_source_settings', { _id: OTHER });
    const [mine] = await readCollection(suite.env, 'data_source_settings', { _id: SCHOOL });
    expect(mine!.key).toMatchObject({ binding: 'tenant-origin' });
    await withSettingsCollection(suite.env, (c) =>
      c.updateOne({ _id: SCHOOL as never }, { $set: { key: other!.key } }),
    );
    expect((await grpcErrorOf(suite.client.testConnection({}, suite.client.md(SCHOOL)))).errorCode).toBe(
      'CONNECTOR_KEY_DECRYPT_FAILED',
    );
    const { binding: _binding, ...stripped } = mine!.key as Record<string, unknown>;
    await withSettingsCollection(suite.env, (c) =>
      c.updateOne({ _id: SCHOOL as never }, { $set: { key: stripped } }),
    );
    expect((await grpcErrorOf(suite.client.testConnection({}, suite.client.md(SCHOOL)))).errorCode).toBe(
      'CONNECTOR_KEY_DECRYPT_FAILED',
    );
    await withSettingsCollection(suite.env, (c) =>
      c.updateOne({ _id: SCHOOL as never }, { $set: { key: mine!.key } }),
    );
    expect((await suite.client.testConnection({}, suite.client.md(SCHOOL))).ok).toBe(true);
    expect(hostB.requests).toEqual([]);
  });
});

describe('the stored key is bound to its host: saving another address with the key', () => {
  it('saving another address with the key moves the binding, and every address change is audited (who, when, old and new host; never the key)', async () => {
    const saved = await suite.client.putSettings(
      { isamsUrl: hostB.url, apiKey: NEW_KEY, enabled: true },
      suite.client.md(SCHOOL, 'token:admin-7'),
    );
    expect(saved.isamsUrl).toBe(hostB.url);
    const run = await runToEnd(SCHOOL);
    expect(run.status).toBe('failed');
    expect(receivedByB()).toContain(encodeURIComponent(NEW_KEY));
    expectKeyNeverReachedB();
    // Back to A needs the key again.
    const back = await grpcErrorOf(
      suite.client.putSettings({ isamsUrl: suite.sim.url, enabled: true }, suite.client.md(SCHOOL)),
    );
    expect(back.errorCode).toBe('CONNECTOR_KEY_REQUIRED_FOR_NEW_ADDRESS');

    const audit = await readCollection(suite.env, 'settings_audit', { tenantId: SCHOOL });
    const changes = audit.filter((a) => a.action === 'isams_address.changed');
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({
      tenantId: SCHOOL,
      actor: 'token:admin-7',
      previousOrigin: new URL(suite.sim.url).origin,
      newOrigin: new URL(hostB.url).origin,
    });
    expect(changes[0]!.at).toBeInstanceOf(Date);
    const text = JSON.stringify(audit);
    expect(text).not.toContain('B2B2B2B2');
    expect(text).not.toContain('A1A1A1A1');
  });
});

describe('connector: keys stored before the binding (AAD = school only)', () => {
  const world = useSimulatorAndEnv();
  let hostB: OddIsamsHost;
  const LEGACY = 'school-legacy';

  beforeAll(async () => {
    await world.sim.createSchool('legacy', { seed: 6, size: 'small', apiKey: KEY });
    hostB = await startOddIsamsHost((socket) => {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
  });
  afterAll(async () => {
    await hostB?.close();
  });

  it('are bound to their stored address when the connector starts, and then refuse any other host', async () => {
    const now = new Date();
    await withSettingsCollection(world.env, (c) =>
      c.insertOne({
        _id: LEGACY as never,
        tenantId: LEGACY,
        isamsUrl: world.sim.url,
        format: 'xml',
        scheduleMinutes: 60,
        enabled: false,
        key: legacyKey(world.env.kek, LEGACY, KEY),
        keyLast4: '7777',
        keyUpdatedAt: now,
        nextRunAt: null,
        consecutiveFailures: 0,
        updatedAt: now,
        updatedBy: 'admin:old',
      }),
    );
    const app = await startConnector(world.env.env({ SCHEDULER_ENABLED: 'false' }));
    const client = connectorClient(app.grpcPort);
    try {
      const [doc] = await readCollection(world.env, 'data_source_settings', { _id: LEGACY });
      expect(doc!.key).toMatchObject({ kekId: 'k1', binding: 'tenant-origin' });
      expect((await client.testConnection({}, client.md(LEGACY))).ok).toBe(true);
      const err = await grpcErrorOf(client.testConnection({ isamsUrl: hostB.url }, client.md(LEGACY)));
      expect(err.errorCode).toBe('CONNECTOR_KEY_REQUIRED_FOR_NEW_ADDRESS');
      await withSettingsCollection(world.env, (c) =>
        c.updateOne({ _id: LEGACY as never }, { $set: { isamsUrl: hostB.url } }),
      );
      expect((await grpcErrorOf(client.testConnection({}, client.md(LEGACY)))).errorCode).toBe(
        'CONNECTOR_KEY_DECRYPT_FAILED',
      );
      expect(hostB.requests).toEqual([]);
    } finally {
      client.close();
      await app.stop();
    }
  });
});
