import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { getTestInfra } from '@isams-sync/testing';
import { MongoClient } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  connectorClient,
  grpcErrorOf,
  readCollection,
  startConnector,
  useSimulatorAndEnv,
} from '../support/connector-harness';
import type { ConnectorTestEnv } from '../support/connector-harness';

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

/** Changes a school's stored address in the database, behind the API (the key then does not decrypt). */
async function moveStoredAddress(env: ConnectorTestEnv, tenantId: string, isamsUrl: string): Promise<void> {
  const client = new MongoClient(getTestInfra().mongoUrl);
  await client.connect();
  try {
    await client
      .db(env.mongoDb)
      .collection<{ _id: string }>('data_source_settings')
      .updateOne({ _id: tenantId }, { $set: { isamsUrl } });
  } finally {
    await client.close();
  }
}

/** `rotate-kek.ts` run as an operator runs it, with the connector's database and keys. */
function rotateKekCli(env: ConnectorTestEnv, keks: Record<string, string>) {
  const root = resolve(import.meta.dirname, '../../../..');
  const out = spawnSync(process.execPath, ['--import', 'tsx', 'services/connector/src/cli/rotate-kek.ts'], {
    cwd: root,
    env: { ...process.env, MONGO_URL: getTestInfra().mongoUrl, MONGO_DB: env.mongoDb, ...keks },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

describe('connector: key-encryption key rotation past a key that does not decrypt', () => {
  const world = useSimulatorAndEnv();
  const BROKEN = 'rot-broken';
  const HEALTHY = ['rot-ok-1', 'rot-ok-2'];

  it('rotates every other key, names the school left under the old KEK (RPC and CLI), and finishes once its key is entered again', async () => {
    const oldApp = await startConnector(world.env.env({ SCHEDULER_ENABLED: 'false' }));
    let c = connectorClient(oldApp.grpcPort);
    for (const t of [BROKEN, ...HEALTHY])
      await c.putSettings({ isamsUrl: world.sim.url, apiKey: KEY, enabled: false }, c.md(t));
    await moveStoredAddress(world.env, BROKEN, 'http://127.0.0.2:1');
    // Saved again after the broken one: a scan in write order meets the broken school first.
    for (const t of HEALTHY)
      await c.putSettings({ isamsUrl: world.sim.url, apiKey: KEY, enabled: false }, c.md(t));
    c.close();
    await oldApp.stop();

    const newKek = randomBytes(32).toString('base64');
    const keks = {
      CONNECTOR_KEK: newKek,
      CONNECTOR_KEK_ID: 'k2',
      CONNECTOR_KEK_PREVIOUS: `k1:${world.env.kek}`,
    };
    const rotating = await startConnector(world.env.env({ SCHEDULER_ENABLED: 'false', ...keks }));
    c = connectorClient(rotating.grpcPort);
    const kekIds = async () =>
      Object.fromEntries(
        (await readCollection(world.env, 'data_source_settings', {})).map((d) => [
          d._id,
          (d.key as { kekId: string }).kekId,
        ]),
      );
    try {
      const refused = await grpcErrorOf(c.rotateKeyEncryption({}, c.md(BROKEN, 'operator:1')));
      expect(refused.errorCode).toBe('CONNECTOR_KEYS_LEFT_UNROTATED');
      expect(refused.grpcMessage).toContain('1 left');
      expect(refused.grpcMessage).toContain(BROKEN);
      expect(refused.grpcMessage).toContain('CONNECTOR_KEK_PREVIOUS');
      expect(refused.details).toEqual({
        reencrypted: 2,
        alreadyCurrent: 0,
        left: 1,
        skippedTenantIds: [BROKEN],
      });
      expect(await kekIds()).toEqual({ [BROKEN]: 'k1', 'rot-ok-1': 'k2', 'rot-ok-2': 'k2' });

      const cli = rotateKekCli(world.env, keks);
      expect(cli.status, cli.stderr).toBe(2);
      expect(cli.stdout).toContain('0 key(s)');
      expect(cli.stdout).toContain('1 left');
      expect(cli.stdout).toContain(`${BROKEN} (CONNECTOR_KEY_DECRYPT_FAILED, kek k1)`);

      // The school enters its key again: nothing left, the previous KEK can go.
      await c.putSettings({ isamsUrl: world.sim.url, apiKey: KEY, enabled: false }, c.md(BROKEN));
      expect(await c.rotateKeyEncryption({}, c.md(BROKEN, 'operator:1'))).toEqual({
        reencrypted: 0,
        alreadyCurrent: 3,
      });
      const done = rotateKekCli(world.env, keks);
      expect(done.status, done.stderr).toBe(0);
      expect(done.stdout).toContain('0 left');
    } finally {
      c.close();
      await rotating.stop();
    }
  });
});
