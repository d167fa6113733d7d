import { Metadata, status } from '@grpc/grpc-js';
import type { Client, ServiceError } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { reflectionClient } from './helpers/reflection-client';
import type { GrpcServerHandle } from '../src';
import { bareEchoClient, startEchoServer } from './helpers/echo-service';
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
