import { Metadata, status } from '@grpc/grpc-js';
import type { Client, ServiceError } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { reflectionClient } from './helpers/reflection-client';
import { generateServiceKeys, mintServiceToken, serviceKeyringFrom } from '../src';
import type { GrpcServerHandle, MintOptions } from '../src';
import {
  bareEchoClient,
  captureLogger,
  ECHO_KEYS,
  ECHO_SERVICE,
  startEchoServer,
} from './helpers/echo-service';
import type { EchoClient, EchoResponse } from './helpers/echo-service';

// Issue 15 defects, shown over real gRPC sockets with a bare grpc-js client (no library helpers): a
// caller that presents no service identity, or only an `x-tenant-id` header, must not be served.

const servers: GrpcServerHandle[] = [];
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.shutdown(1000)));
});

function bareClient(address: string): EchoClient {
  const client = bareEchoClient(address);
  clients.push(client);
  return client;
}

function echo(client: EchoClient, metadata: Metadata): Promise<EchoResponse> {
  return new Promise((resolve, reject) =>
    client.echo({ text: 'hi' }, metadata, {}, (err, res) => (err ? reject(err) : resolve(res!))),
  );
}

describe('service identity defects (issue 15)', () => {
  it('refuses a call that carries no service identity', async () => {
    const { handle, address } = await startEchoServer();
    servers.push(handle);
    const md = new Metadata();
    md.set('x-tenant-id', 'school-a');
    await expect(echo(bareClient(address), md)).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
  });

  it('refuses to act for school B on a bare x-tenant-id header (with a forged bearer token)', async () => {
    const { handle, address } = await startEchoServer();
    servers.push(handle);
    const md = new Metadata();
    md.set('x-tenant-id', 'school-b');
    md.set('authorization', 'Bearer not-a-token');
    const outcome = await echo(bareClient(address), md).then(
      (res) => `served for ${res.tenantId}`,
      (err: ServiceError) => err.code,
    );
    expect(outcome).toBe(status.UNAUTHENTICATED);
  });

  it('does not serve reflection unless it is enabled', async () => {
    const { handle, address } = await startEchoServer();
    servers.push(handle);
    const client = reflectionClient(address);
    clients.push(client);
    const outcome = await new Promise<string | number>((resolve) => {
      const stream = client.ServerReflectionInfo();
      stream.on('data', () => resolve('served'));
      stream.on('error', (err: ServiceError) => resolve(err.code));
      stream.write({ listServices: '' });
      stream.end();
    });
    expect(outcome).toBe(status.UNIMPLEMENTED);
  });
});

// Audit s51 #3: docs/security.md says a refused token's reason "is logged, not sent", but the status
// carried it in `x-error-details-bin` ({"reason":"bad signature"}), telling a forger which check failed.
describe('a refused service token (audit s51)', () => {
  const ECHO = `/${ECHO_SERVICE}/Echo`;
  const mint = (as: string, keys = ECHO_KEYS, options: Partial<MintOptions> = {}) =>
    mintServiceToken(serviceKeyringFrom(as, keys), {
      audience: 'echo',
      method: ECHO,
      tenant: 'school-a',
      ...options,
    });

  it('is answered with the generic code and message only; the reason and the claimed caller are logged', async () => {
    const { logger, lines } = captureLogger();
    const { handle, address } = await startEchoServer(logger);
    servers.push(handle);
    const client = bareClient(address);
    const forged: Array<[string, string]> = [
      ['bad signature', mint('gateway', generateServiceKeys([['gateway', 'echo']]))],
      ['wrong method', mint('gateway', ECHO_KEYS, { method: `/${ECHO_SERVICE}/Ping` })],
      ['expired', mint('gateway', ECHO_KEYS, { now: () => Date.now() - 10 * 60_000 })],
      ['unknown caller', mint('roster', generateServiceKeys([['roster', 'echo']]))],
    ];
    for (const [reason, token] of forged) {
      const md = new Metadata();
      md.set('authorization', `Bearer ${token}`);
      const err = await echo(client, md).then(
        () => undefined,
        (e: ServiceError) => e,
      );
      expect(err, reason).toMatchObject({
        code: status.UNAUTHENTICATED,
        details: 'Service token is not valid',
      });
      expect(err!.metadata.get('x-error-code'), reason).toEqual(['GRPC_SERVICE_TOKEN_INVALID']);
      expect(err!.metadata.get('x-error-details-bin'), reason).toEqual([]);
    }
    const refused = lines.filter((l) => l.msg === 'gRPC call refused');
    expect(refused.map((l) => [l.reason, l.claimedCaller])).toEqual([
      ['bad signature', 'gateway'],
      ['wrong method', 'gateway'],
      ['expired', 'gateway'],
      ['unknown caller', 'roster'],
    ]);
  });
});
