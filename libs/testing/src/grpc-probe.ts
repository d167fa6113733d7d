import { Client, credentials, Metadata, status } from '@grpc/grpc-js';
import type { ServiceDefinition, ServiceError } from '@grpc/grpc-js';
import { expect } from 'vitest';

/**
 * Calls every method of `definition` at `address` once with an empty request and exactly
 * `metadata` (default: none — no service identity) over a plain grpc-js client, and reports per
 * method name the gRPC status it failed with, or `'served'`. For tests that no RPC is open.
 */
export async function probeEveryMethod(
  address: string,
  definition: ServiceDefinition,
  metadata: () => Metadata = () => new Metadata(),
): Promise<Record<string, number | 'served'>> {
  const client = new Client(address, credentials.createInsecure());
  try {
    const entries = await Promise.all(
      Object.entries(definition).map(async ([name, def]) => {
        const outcome = await new Promise<number | 'served'>((resolve) => {
          const deadline = Date.now() + 10_000;
          if (def.responseStream) {
            const stream = client.makeServerStreamRequest(
              def.path,
              def.requestSerialize,
              def.responseDeserialize,
              {},
              metadata(),
              { deadline },
            );
            stream.on('data', () => {
              stream.cancel();
              resolve('served');
            });
            stream.on('error', (err: ServiceError) => resolve(err.code));
            stream.on('end', () => resolve('served'));
          } else {
            client.makeUnaryRequest(
              def.path,
              def.requestSerialize,
              def.responseDeserialize,
              {},
              metadata(),
              { deadline },
              (err: ServiceError | null) => resolve(err ? err.code : 'served'),
            );
          }
        });
        return [name, outcome] as const;
      }),
    );
    return Object.fromEntries(entries);
  } finally {
    client.close();
  }
}

/**
 * The issue-15 check every gRPC service has: probes every method of `definition` at `address` as
 * a caller that names `tenantId` in `x-tenant-id` but carries no service identity, and asserts
 * that every method was probed and each one failed with UNAUTHENTICATED. Returns the names of the
 * methods probed, for a test that asserts more about them.
 */
export async function expectEveryMethodUnauthenticated(
  address: string,
  definition: ServiceDefinition,
  tenantId: string,
): Promise<string[]> {
  const outcomes = await probeEveryMethod(address, definition, () => {
    const md = new Metadata();
    md.set('x-tenant-id', tenantId);
    return md;
  });
  expect(Object.keys(outcomes)).toHaveLength(Object.keys(definition).length);
  for (const [method, outcome] of Object.entries(outcomes))
    expect({ method, outcome }).toEqual({ method, outcome: status.UNAUTHENTICATED });
  return Object.keys(outcomes);
}

const HEALTH_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as const;

/**
 * Asks the standard gRPC health service (`grpc.health.v1.Health/Check`) at `address` for `service`
 * (`''` = the whole server), without a service identity, as a Kubernetes `grpc:` probe does. Resolves
 * to the status name, or to `unreachable` / the gRPC status code when the call fails. The two tiny
 * messages are encoded by hand (field 1: the service name / the status enum).
 */
export function grpcHealthStatus(
  address: string,
  service: string,
): Promise<(typeof HEALTH_STATUS)[number] | 'unreachable' | number> {
  const client = new Client(address, credentials.createInsecure());
  const name = Buffer.from(service, 'utf8');
  if (name.length > 127) throw new Error('grpcHealthStatus: service names up to 127 bytes');
  const request =
    name.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a, name.length]), name]);
  return new Promise<(typeof HEALTH_STATUS)[number] | 'unreachable' | number>((resolve) => {
    client.makeUnaryRequest(
      '/grpc.health.v1.Health/Check',
      (b: Buffer) => b,
      (b: Buffer) => b,
      request,
      new Metadata(),
      { deadline: Date.now() + 5_000 },
      (err: ServiceError | null, res?: Buffer) => {
        if (err) return resolve(err.code === 14 ? 'unreachable' : err.code);
        // Absent field = 0 (UNKNOWN); else `0x08 <varint>` with a one-byte enum value.
        const value = res && res.length >= 2 && res[0] === 0x08 ? res[1]! : 0;
        resolve(HEALTH_STATUS[value] ?? value);
      },
    );
  }).finally(() => client.close());
}
