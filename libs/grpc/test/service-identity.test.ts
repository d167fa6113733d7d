import { Metadata, status } from '@grpc/grpc-js';
import type { Client, ServiceError } from '@grpc/grpc-js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createGrpcClient,
  createGrpcServer,
  generateServiceKeys,
  loadServiceKeyring,
  mintServiceToken,
  promisifyUnary,
  callMetadata,
  serviceKeyringFrom,
  verifyServiceToken,
  writeServiceKeys,
} from '../src';
import type { GrpcServerHandle } from '../src';
import {
  ECHO_CALLERS,
  ECHO_KEYS,
  ECHO_SERVICE,
  bareEchoClient,
  captureLogger,
  echoIdentity,
  loadEchoPackage,
  startEchoServer,
} from './helpers/echo-service';
import type { EchoClient, EchoResponse } from './helpers/echo-service';

const ECHO = `/${ECHO_SERVICE}/Echo`;
const PING = `/${ECHO_SERVICE}/Ping`;

const servers: GrpcServerHandle[] = [];
const clients: Client[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.shutdown(1000)));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function echoServer(): Promise<string> {
  const { handle, address } = await startEchoServer();
  servers.push(handle);
  return address;
}

function bareClient(address: string): EchoClient {
  const client = bareEchoClient(address);
  clients.push(client);
  return client;
}

function token(as: string, method: string, tenant: string, keys = ECHO_KEYS, audience = 'echo'): string {
  return mintServiceToken(serviceKeyringFrom(as, keys), { audience, method, tenant });
}

function metadata(entries: Record<string, string>): Metadata {
  const md = new Metadata();
  for (const [k, v] of Object.entries(entries)) md.set(k, v);
  return md;
}

/** Calls Echo with exactly this metadata; resolves to the response or to the error's status and code. */
function echo(address: string, md: Metadata): Promise<EchoResponse | { code: number; errorCode: unknown }> {
  const client = bareClient(address);
  return new Promise((resolve) =>
    client.echo({ text: 'hi' }, md, {}, (err: ServiceError | null, res?: EchoResponse) =>
      resolve(err ? { code: err.code, errorCode: err.metadata.get('x-error-code')[0] } : res!),
    ),
  );
}

describe('service identity over real gRPC sockets', () => {
  it('serves a verified caller for the school its token names, and tells the handler who called', async () => {
    const address = await echoServer();
    const client = createGrpcClient(loadEchoPackage().isams_sync.testing.v1.EchoService, address, {
      identity: echoIdentity('gateway'),
    });
    clients.push(client);
    const res = await promisifyUnary(client, 'echo')({ text: 'hi' }, callMetadata({ tenantId: 'school-a' }));
    expect(res).toMatchObject({ text: 'hi', tenantId: 'school-a' });
  });

  it('refuses a call without a token, and a server stream without one', async () => {
    const address = await echoServer();
    expect(await echo(address, metadata({ 'x-tenant-id': 'school-a' }))).toEqual({
      code: status.UNAUTHENTICATED,
      errorCode: 'GRPC_SERVICE_IDENTITY_REQUIRED',
    });
    const stream = bareClient(address).repeat(
      { count: 2, text: 'x' },
      metadata({ 'x-tenant-id': 'school-a' }),
    );
    const outcome = await new Promise<number | string>((resolve) => {
      stream.on('data', () => resolve('served'));
      stream.on('error', (err: ServiceError) => resolve(err.code));
    });
    expect(outcome).toBe(status.UNAUTHENTICATED);
  });

  it('does not let a token for school A act for school B', async () => {
    const address = await echoServer();
    const bearer = `Bearer ${token('gateway', ECHO, 'school-a')}`;
    expect(await echo(address, metadata({ authorization: bearer, 'x-tenant-id': 'school-b' }))).toEqual({
      code: status.PERMISSION_DENIED,
      errorCode: 'GRPC_TENANT_MISMATCH',
    });
    // Without the header the token's school is used — never another.
    expect(await echo(address, metadata({ authorization: bearer }))).toMatchObject({ tenantId: 'school-a' });
  });

  it('refuses a token replayed on another method, for another callee, expired, or signed with another key', async () => {
    const address = await echoServer();
    const invalid = { code: status.UNAUTHENTICATED, errorCode: 'GRPC_SERVICE_TOKEN_INVALID' };
    const onPing = token('gateway', PING, 'school-a');
    expect(await echo(address, metadata({ authorization: `Bearer ${onPing}` }))).toEqual(invalid);
    const forRoster = token(
      'gateway',
      ECHO,
      'school-a',
      { 'gateway-to-roster': ECHO_KEYS['gateway-to-echo']! },
      'roster',
    );
    expect(await echo(address, metadata({ authorization: `Bearer ${forRoster}` }))).toEqual(invalid);
    const expired = mintServiceToken(serviceKeyringFrom('gateway', ECHO_KEYS), {
      audience: 'echo',
      method: ECHO,
      tenant: 'school-a',
      now: () => Date.now() - 10 * 60_000,
    });
    expect(await echo(address, metadata({ authorization: `Bearer ${expired}` }))).toEqual(invalid);
    const otherKey = token('gateway', ECHO, 'school-a', generateServiceKeys([['gateway', 'echo']]));
    expect(await echo(address, metadata({ authorization: `Bearer ${otherKey}` }))).toEqual(invalid);
    const [h, p, s] = token('gateway', ECHO, 'school-a').split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: 'school-b' })).toString('base64url')}.${s}`;
    expect(await echo(address, metadata({ authorization: `Bearer ${tampered}` }))).toEqual(invalid);
  });

  it('applies the per-method allow-list: a known service not on it is refused', async () => {
    const address = await echoServer();
    const denied = { code: status.PERMISSION_DENIED, errorCode: 'GRPC_CALLER_NOT_ALLOWED' };
    const fromBookings = token('bookings', ECHO, 'school-a');
    expect(await echo(address, metadata({ authorization: `Bearer ${fromBookings}` }))).toEqual(denied);
    const fromOperator = token('operator', ECHO, 'school-a');
    expect(await echo(address, metadata({ authorization: `Bearer ${fromOperator}` }))).toEqual(denied);
    // The operator may call the tenant-free Ping only.
    const client = createGrpcClient(loadEchoPackage().isams_sync.testing.v1.EchoService, address, {
      identity: echoIdentity('operator'),
    });
    clients.push(client);
    await expect(promisifyUnary(client, 'ping')({}, callMetadata({}))).resolves.toMatchObject({
      text: 'pong',
    });
  });

  it('refuses a tenant-free token (`*`) on a method that acts for one school', async () => {
    const address = await echoServer();
    const any = token('gateway', ECHO, '*');
    expect(await echo(address, metadata({ authorization: `Bearer ${any}` }))).toEqual({
      code: status.INVALID_ARGUMENT,
      errorCode: 'GRPC_TENANT_REQUIRED',
    });
  });

  it('refuses a request larger than the receive limit', async () => {
    const address = await echoServer();
    const client = createGrpcClient(loadEchoPackage().isams_sync.testing.v1.EchoService, address, {
      identity: echoIdentity('gateway'),
      channelOptions: { 'grpc.max_send_message_length': -1 },
    });
    clients.push(client);
    const err = await promisifyUnary(client, 'echo')(
      { text: 'x'.repeat(5 * 1024 * 1024) },
      callMetadata({ tenantId: 'school-a' }),
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: status.RESOURCE_EXHAUSTED });
  });

  it('fails start-up when the allow-list names a method the service does not have', async () => {
    const pkg = loadEchoPackage();
    await expect(
      createGrpcServer({
        logger: captureLogger().logger,
        port: 0,
        host: '127.0.0.1',
        identity: serviceKeyringFrom('echo', ECHO_KEYS),
        services: [
          {
            name: ECHO_SERVICE,
            definition: pkg.isams_sync.testing.v1.EchoService.service,
            implementation: {},
            callers: { ...ECHO_CALLERS, methods: { Nope: ['operator'] } },
          },
        ],
      }),
    ).rejects.toThrow(/unknown method "Nope"/);
  });
});

describe('service keys', () => {
  it('loads from a directory only the pairs the service is part of', () => {
    const dir = mkdtempSync(join(tmpdir(), 'svc-keys-'));
    dirs.push(dir);
    writeServiceKeys(dir);
    writeFileSync(join(dir, 'README'), 'not a key');
    const roster = loadServiceKeyring(dir, 'roster');
    expect([...roster.verifying.keys()].sort()).toEqual(['bookings', 'gateway']);
    expect([...roster.signing.keys()]).toEqual([]);
    const gateway = loadServiceKeyring(dir, 'gateway');
    expect([...gateway.signing.keys()].sort()).toEqual(['bookings', 'connector', 'roster']);
    const t = mintServiceToken(gateway, { audience: 'roster', method: '/x/Y', tenant: 'school-a' });
    expect(verifyServiceToken(roster, t, '/x/Y')).toEqual({ service: 'gateway', tenantId: 'school-a' });
    // bookings holds its own key to roster, not the gateway's: it cannot speak as the gateway.
    const bookings = loadServiceKeyring(dir, 'bookings');
    expect([...bookings.signing.keys()]).toEqual(['roster']);
    expect(() => verifyServiceToken(loadServiceKeyring(dir, 'connector'), t, '/x/Y')).toThrow(
      expect.objectContaining({ code: 'GRPC_SERVICE_TOKEN_INVALID' }),
    );
  });

  it('rejects a short or malformed key file, naming the file but not the key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'svc-keys-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'gateway-to-roster.key'), `${Buffer.alloc(16, 1).toString('base64')}\n`);
    expect(() => loadServiceKeyring(dir, 'roster')).toThrow(
      /gateway-to-roster\.key: key 1 is not base64 of at least 32 bytes/,
    );
    writeFileSync(join(dir, 'gateway-to-roster.key'), '\n');
    expect(() => loadServiceKeyring(dir, 'roster')).toThrow(/holds no key/);
  });

  it('accepts any listed key of a pair (rotation), signs only for its own callees, refuses a token from the future', () => {
    const [oldKey, newKey] = [
      generateServiceKeys([['a', 'b']])['a-to-b']![0]!,
      generateServiceKeys([['a', 'b']])['a-to-b']![0]!,
    ];
    const callee = serviceKeyringFrom('b', { 'a-to-b': [newKey, oldKey] });
    const oldCaller = serviceKeyringFrom('a', { 'a-to-b': [oldKey] });
    const t = mintServiceToken(oldCaller, { audience: 'b', method: '/m', tenant: 's' });
    expect(verifyServiceToken(callee, t, '/m').service).toBe('a');
    expect(() => mintServiceToken(oldCaller, { audience: 'c', method: '/m', tenant: 's' })).toThrow(
      /holds no key to call "c"/,
    );
    const now = Date.now();
    const future = mintServiceToken(oldCaller, {
      audience: 'b',
      method: '/m',
      tenant: 's',
      now: () => now + 120_000,
    });
    expect(() => verifyServiceToken(callee, future, '/m', () => now)).toThrow(
      expect.objectContaining({ reason: 'issued in the future', claimedCaller: 'a', details: undefined }),
    );
  });
});
