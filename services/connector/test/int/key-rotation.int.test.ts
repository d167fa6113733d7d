import { startSimulator, type SimulatorProcess } from '@isams-sync/testing';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectorClient,
  connectorTestEnv,
  readCollection,
  startConnector,
} from '../support/connector-harness';
import type { ConnectorTestEnv } from '../support/connector-harness';

const KEY = '{EEEEEEEE-0000-0000-0000-000000000001}';

describe('connector: key-encryption key rotation', () => {
  let sim: SimulatorProcess;
  let env: ConnectorTestEnv;
  beforeAll(async () => {
    sim = await startSimulator();
    await sim.createSchool('rot', { seed: 1, size: 'small', apiKey: KEY });
    env = connectorTestEnv();
  });
  afterAll(async () => {
    await sim?.stop();
    await env?.dropDatabase();
  });

  it('keeps working with the old KEK as previous, re-encrypts everything, then works without it', async () => {
    const oldApp = await startConnector(env.env({ SCHEDULER_ENABLED: 'false' }));
    let c = connectorClient(oldApp.grpcPort);
    await c.putSettings({ isamsUrl: sim.url, apiKey: KEY, enabled: true }, c.md('rot'));
    c.close();
    await oldApp.stop();

    const newKek = randomBytes(32).toString('base64');
    const rotating = await startConnector(
      env.env({
        SCHEDULER_ENABLED: 'false',
        CONNECTOR_KEK: newKek,
        CONNECTOR_KEK_ID: 'k2',
        CONNECTOR_KEK_PREVIOUS: `k1:${env.kek}`,
      }),
    );
    c = connectorClient(rotating.grpcPort);
    expect((await c.testConnection({}, c.md('rot'))).ok).toBe(true);
    expect(await c.rotateKeyEncryption({}, c.md('rot'))).toEqual({ reencrypted: 1, alreadyCurrent: 0 });
    expect(await c.rotateKeyEncryption({}, c.md('rot'))).toEqual({ reencrypted: 0, alreadyCurrent: 1 });
    // The re-encrypted key stays bound to the school and its host.
    const [stored] = await readCollection(env, 'data_source_settings', { _id: 'rot' });
    expect(stored!.key).toMatchObject({ kekId: 'k2', binding: 'tenant-origin' });
    c.close();
    await rotating.stop();

    const rotated = await startConnector(
      env.env({ SCHEDULER_ENABLED: 'false', CONNECTOR_KEK: newKek, CONNECTOR_KEK_ID: 'k2' }),
    );
    c = connectorClient(rotated.grpcPort);
    expect((await c.testConnection({}, c.md('rot'))).ok).toBe(true);
    expect((await c.getSettings({}, c.md('rot'))).keyLast4).toBe('0001');
    c.close();
    await rotated.stop();
  });
});
