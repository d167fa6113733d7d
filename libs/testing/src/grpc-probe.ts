import { Client, credentials, Metadata } from '@grpc/grpc-js';
import type { ServiceDefinition, ServiceError } from '@grpc/grpc-js';

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
