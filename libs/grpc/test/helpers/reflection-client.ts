import { credentials, loadPackageDefinition } from '@grpc/grpc-js';
import type { Client, ClientDuplexStream, ClientOptions } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** A client of the standard gRPC reflection service, `grpc.reflection.v1.ServerReflection`. */
export type ReflectionClient = Client & {
  ServerReflectionInfo(): ClientDuplexStream<
    object,
    { listServicesResponse?: { service: Array<{ name: string }> } }
  >;
};

/** A plaintext reflection client of the server at `address` (`options`, e.g. interceptors, as given). */
export function reflectionClient(address: string, options?: ClientOptions): ReflectionClient {
  const reflectionDir = dirname(createRequire(import.meta.url).resolve('@grpc/reflection'));
  const protoFile = join(reflectionDir, '../proto/grpc/reflection/v1/reflection.proto');
  const loadOptions = { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true };
  const pkg = loadPackageDefinition(loadSync(protoFile, loadOptions)) as unknown as {
    grpc: {
      reflection: {
        v1: {
          ServerReflection: new (
            a: string,
            c: ReturnType<typeof credentials.createInsecure>,
            o?: ClientOptions,
          ) => ReflectionClient;
        };
      };
    };
  };
  return new pkg.grpc.reflection.v1.ServerReflection(address, credentials.createInsecure(), options);
}
