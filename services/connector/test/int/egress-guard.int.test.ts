/**
 * Where the connector may connect (issue #15): with the production setting
 * (CONNECTOR_ALLOW_PRIVATE_EGRESS=false) no settings save, test connection or run reaches a
 * private, loopback, link-local or cluster-internal address — as an IP literal in any spelling, as
 * an internal name, or as a public-looking name whose DNS answer is private. Every refusal is the
 * same ISAMS_ADDRESS_NOT_ALLOWED error, whatever the port or the state of the host behind it, and a
 * real local listener never sees a connection.
 */
import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { ADDRESS_NOT_ALLOWED_MESSAGE } from '@isams-sync/isams';
import type { ResolvedAddress } from '@isams-sync/isams';
import { GrpcCallError } from '@isams-sync/grpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectorApp } from '../../src/app';
import { connectorClient, connectorTestEnv, startConnector } from '../support/connector-harness';
import type { ConnectorClient, ConnectorTestEnv } from '../support/connector-harness';

const KEY = '{5A5A5A5A-1111-4222-8333-444455556666}';

/** A real TCP listener that counts (and drops) every connection it gets. */
async function startListener(): Promise<{
  port: number;
  connections: () => number;
  close: () => Promise<void>;
}> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    connections += 1;
    sockets.add(s);
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** Public-looking names the injected resolver answers with private addresses (as a hostile DNS would). */
const PRIVATE_ANSWERS: Record<string, ResolvedAddress[]> = {
  'school-rebind.example-isams.com.': [{ address: '127.0.0.1', family: 4 }],
  'school-metadata.example-isams.com.': [{ address: '169.254.169.254', family: 4 }],
  'school-mixed.example-isams.com.': [
    { address: '93.184.215.14', family: 4 },
    { address: '10.1.2.3', family: 4 },
  ],
  'school-v6.example-isams.com.': [{ address: '::ffff:127.0.0.1', family: 6 }],
};

// One connector with the production setting for every describe below, started once for the file:
// a listener that must never see a connection, a port known to be closed, and every name the
// injected resolver was asked for (the tests run in file order).
let env: ConnectorTestEnv;
let app: ConnectorApp;
let client: ConnectorClient;
let listener: Awaited<ReturnType<typeof startListener>>;
let closedPort: number;
const lookedUp: string[] = [];

beforeAll(async () => {
  listener = await startListener();
  const closed = await startListener();
  closedPort = closed.port;
  await closed.close();
  env = connectorTestEnv();
  app = await startConnector(
    env.env({
      SCHEDULER_ENABLED: 'false',
      CONNECTOR_ALLOW_PRIVATE_EGRESS: 'false',
      ISAMS_ALLOW_INSECURE_LOOPBACK: 'false',
      // The listener's port is allowed, so that only the address (not the port) refuses it.
      CONNECTOR_ISAMS_PORTS: `443,${listener.port},${closedPort}`,
    }),
    {
      egress: {
        resolve: async (hostname) => {
          lookedUp.push(hostname);
          const answers = PRIVATE_ANSWERS[hostname];
          if (!answers)
            throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
          return answers;
        },
      },
    },
  );
  client = connectorClient(app.grpcPort);
});
afterAll(async () => {
  client?.close();
  await app?.stop();
  await listener?.close();
  await env?.dropDatabase();
});

const port = () => listener.port;
/** Every SSRF target of the issue, in each spelling the URL parser accepts. */
const literalTargets = () => [
  `https://169.254.169.254`,
  `https://169.254.169.254:${port()}/latest/meta-data`,
  `https://10.0.0.5:${port()}`,
  `https://172.16.3.4`,
  `https://192.168.1.10`,
  `https://100.64.0.1`,
  `https://0.0.0.0:${port()}`,
  `https://127.0.0.1:${port()}`,
  `https://127.0.0.1:${closedPort}`,
  `https://0x7f000001:${port()}`,
  `https://2130706433:${port()}`,
  `https://0177.0.0.1:${port()}`,
  `https://127.1:${port()}`,
  `https://[::1]:${port()}`,
  `https://[::ffff:127.0.0.1]:${port()}`,
  `https://[::ffff:a9fe:a9fe]`,
  `https://[64:ff9b::7f00:1]:${port()}`,
  `https://[2002:7f00:1::1]:${port()}`,
  `https://[fd00::1]`,
  `https://[fe80::1]`,
  `https://[fec0::1]`,
  `https://198.18.0.1`,
  `https://224.0.0.1`,
  `https://255.255.255.255`,
];
/** Local and cluster-internal names. */
const internalNames = () => [
  `https://localhost:${port()}`,
  `https://kubernetes.default.svc`,
  `https://kubernetes.default.svc.cluster.local`,
  `https://metadata.google.internal`,
  `https://printer.local`,
];

describe('connector egress (production setting): saving settings with a refused address', () => {
  it('refuses every SSRF target when the settings are saved, with the one generic error, and saves nothing', async () => {
    for (const isamsUrl of [...literalTargets(), ...internalNames()]) {
      const err = await client
        .putSettings({ isamsUrl, apiKey: KEY, enabled: true }, client.md('school-save'))
        .catch((e: unknown) => e);
      expect(err, isamsUrl).toBeInstanceOf(GrpcCallError);
      expect((err as GrpcCallError).errorCode, isamsUrl).toBe('ISAMS_ADDRESS_NOT_ALLOWED');
      expect((err as GrpcCallError).grpcMessage, isamsUrl).toContain(ADDRESS_NOT_ALLOWED_MESSAGE);
    }
    const got = await client.getSettings({}, client.md('school-save'));
    expect(got.configured).toBe(false);
    expect(listener.connections()).toBe(0);
  });

  it('refuses a port other than the allowed ones at save (a public name, nothing resolved)', async () => {
    const err = await client
      .putSettings(
        { isamsUrl: 'https://school.isams.cloud:8443', apiKey: KEY, enabled: true },
        client.md('school-save'),
      )
      .catch((e: unknown) => e);
    expect((err as GrpcCallError).errorCode).toBe('ISAMS_ADDRESS_NOT_ALLOWED');
    expect(lookedUp).toEqual([]);
  });
});

describe('connector egress (production setting): test connection to a refused address or name', () => {
  it('test connection to any refused target answers the same error and makes no connection, open port or closed', async () => {
    const answers = new Set<string>();
    for (const isamsUrl of [...literalTargets(), ...internalNames()]) {
      const r = await client.testConnection({ isamsUrl, apiKey: KEY }, client.md('school-test'));
      expect(r.ok, isamsUrl).toBe(false);
      expect(r.error?.code, isamsUrl).toBe('ISAMS_ADDRESS_NOT_ALLOWED');
      answers.add(
        JSON.stringify({ error: r.error, datasets: r.datasets, missing: r.missing, bytes: r.bytes }),
      );
    }
    expect([...answers]).toHaveLength(1);
    expect(listener.connections()).toBe(0);
  });

  it('a public-looking name whose DNS answer is private (any one of its answers) is refused after resolution, with no connection', async () => {
    for (const name of Object.keys(PRIVATE_ANSWERS)) {
      const isamsUrl = `https://${name.slice(0, -1)}:${port()}`;
      const r = await client.testConnection({ isamsUrl, apiKey: KEY }, client.md('school-dns'));
      expect(r.error?.code, isamsUrl).toBe('ISAMS_ADDRESS_NOT_ALLOWED');
      expect(r.error?.message, isamsUrl).toBe(ADDRESS_NOT_ALLOWED_MESSAGE);
      // The refusal names no resolved address.
      expect(JSON.stringify(r), isamsUrl).not.toMatch(/127\.0\.0\.1|169\.254|10\.1\.2\.3/);
    }
    // Resolved as absolute names: no resolver search domain is appended.
    expect(lookedUp).toEqual(expect.arrayContaining(Object.keys(PRIVATE_ANSWERS)));
    expect(listener.connections()).toBe(0);
  });
});

describe('connector egress (production setting): runs of a school whose address is private', () => {
  it('a run of a school saved with a public-looking name that now resolves privately fails with the same error and connects nowhere', async () => {
    await client.putSettings(
      { isamsUrl: `https://school-rebind.example-isams.com:${port()}`, apiKey: KEY, enabled: true },
      client.md('school-run'),
    );
    const { run } = await client.triggerSync({ dryRun: false }, client.md('school-run'));
    const done = await client.runReaching('school-run', run!.syncRunId, ['failed'], 'run failed');
    expect(done.error?.code).toBe('ISAMS_ADDRESS_NOT_ALLOWED');
    expect(done.error?.message).toBe(ADDRESS_NOT_ALLOWED_MESSAGE);
    expect(done.error?.transient).toBe(false);
    expect(listener.connections()).toBe(0);
  });

  it('a run of a school whose private address was stored earlier (before the guard, or by a development setup) is refused at connect time', async () => {
    const dev = await startConnector(
      env.env({ SCHEDULER_ENABLED: 'false', SYNC_RUNS_GROUP_ID: `${env.mongoDb}-dev` }),
    );
    const devClient = connectorClient(dev.grpcPort);
    try {
      await devClient.putSettings(
        { isamsUrl: `https://127.0.0.1:${port()}`, apiKey: KEY, enabled: true },
        devClient.md('school-stored'),
      );
    } finally {
      devClient.close();
      await dev.stop();
    }
    const { run } = await client.triggerSync({ dryRun: false }, client.md('school-stored'));
    const done = await client.runReaching('school-stored', run!.syncRunId, ['failed'], 'run failed');
    expect(done.error?.code).toBe('ISAMS_ADDRESS_NOT_ALLOWED');
    expect(listener.connections()).toBe(0);
  });
});
