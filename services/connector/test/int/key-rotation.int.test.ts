import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  connectorClient,
  readCollection,
  startConnector,
  useSimulatorAndEnv,
} from '../support/connector-harness';

const KEY = '{EEEEEEEE-0000-0000-0000-000000000001}';

describe('connector: key-encryption key rotation', () => {
  const world = useSimulatorAndEnv();
  beforeAll(async () => {
    await world.sim.createSchool('rot', { seed: 1, size: 'small', apiKey: KEY });
  });

  it('keeps working with the old KEK as previous, re-encrypts everything, then works without it', async () => {
    const oldApp = await startConnector(world.env.env({ SCHEDULER_ENABLED: 'false' }));
    let c = connectorClient(oldApp.grpcPort);
    await c.putSettings({ isamsUrl: world.sim.url, apiKey: KEY, enabled: true }, c.md('rot'));
    c.close();
    await oldApp.stop();

    const newKek = randomBytes(32).toString('base64');
    const rotating = await startConnector(
      world.env.env({
        SCHEDULER_ENABLED: 'false',
        CONNECTOR_KEK: newKek,
        CONNECTOR_KEK_ID: 'k2',
        CONNECTOR_KEK_PREVIOUS: `k1:${world.env.kek}`,
      }),
    );
    c = connectorClient(rotating.grpcPort);
    expect((await c.testConnection({}, c.md('rot'))).ok).toBe(true);
    expect(await c.rotateKeyEncryption({}, c.md('rot'))).toEqual({ reencrypted: 1, alreadyCurrent: 0 });
    expect(await c.rotateKeyEncryption({}, c.md('rot'))).toEqual({ reencrypted: 0, alreadyCurrent: 1 });
    // The re-encrypted key stays bound to the school and its host.
    const [stored] = await readCollection(world.env, 'data_source_settings', { _id: 'rot' });
    expect(stored!.key).toMatchObject({ kekId: 'k2', binding: 'tenant-origin' });
    c.close();
    await rotating.stop();

    const rotated = await startConnector(
      world.env.env({ SCHEDULER_ENABLED: 'false', CONNECTOR_KEK: newKek, CONNECTOR_KEK_ID: 'k2' }),
    );
    c = connectorClient(rotated.grpcPort);
    expect((await c.testConnection({}, c.md('rot'))).ok).toBe(true);
    expect((await c.getSettings({}, c.md('rot'))).keyLast4).toBe('0001');
    c.close();
    await rotated.stop();
  });
});
