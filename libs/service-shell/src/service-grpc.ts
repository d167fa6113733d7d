import { createGrpcServer, loadProtoPackage } from '@isams-sync/grpc';
import type {
  GrpcServerHandle,
  GrpcServiceRegistration,
  ProtosDirOptions,
  ReadinessSignal,
  ServiceKeyring,
} from '@isams-sync/grpc';
import type { Logger } from '@isams-sync/logger';

/** The gRPC server settings of a service's environment (libs/grpc `grpcServerConfig`). */
export interface GrpcServerSettings {
  readonly GRPC_PORT: number;
  readonly PROTOS_DIR?: string | undefined;
  readonly GRPC_REFLECTION: boolean;
}

/** Where the `.proto` files are: `PROTOS_DIR` when set (container images), else libs/grpc finds the repo's. */
export function protosDirOption(config: { readonly PROTOS_DIR?: string | undefined }): ProtosDirOptions {
  return config.PROTOS_DIR === undefined ? {} : { protosDir: config.PROTOS_DIR };
}

/** Options of {@link startServiceGrpc}: the one service a back-end service serves. */
export interface ServiceGrpcOptions<P> extends Omit<GrpcServiceRegistration, 'definition'> {
  /** The service's `.proto`, relative to the protos root (`isams_sync/roster/v1/roster_service.proto`). */
  proto: string;
  /** Its service definition in the loaded package (`(pkg) => pkg.isams_sync.roster.v1.RosterService.service`). */
  definition: (pkg: P) => GrpcServiceRegistration['definition'];
  identity: ServiceKeyring;
  /** The health statuses follow it (libs/grpc `createGrpcServer`). */
  readiness: ReadinessSignal;
  logger: Logger;
}

/**
 * A back-end service's gRPC server on `GRPC_PORT`: its proto loaded (from `PROTOS_DIR` when set), its
 * one service with the callers allowed per method, reflection when `GRPC_REFLECTION` is on, health
 * following readiness.
 */
export function startServiceGrpc<P>(
  config: GrpcServerSettings,
  opts: ServiceGrpcOptions<P>,
): Promise<GrpcServerHandle> {
  const pkg = loadProtoPackage<P>(opts.proto, protosDirOption(config));
  return createGrpcServer({
    logger: opts.logger,
    port: config.GRPC_PORT,
    identity: opts.identity,
    reflection: config.GRPC_REFLECTION,
    readiness: opts.readiness,
    services: [
      {
        name: opts.name,
        definition: opts.definition(pkg),
        implementation: opts.implementation,
        callers: opts.callers,
      },
    ],
  });
}
