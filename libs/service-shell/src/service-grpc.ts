import { loadProtoPackage } from '@isams-sync/grpc';
import type { GrpcServerHandle, GrpcServiceRegistration, ProtosDirOptions } from '@isams-sync/grpc';

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

/** Options of {@link serveServiceGrpc}: the one service a back-end service serves. */
export interface ServiceGrpcOptions<P> extends Omit<GrpcServiceRegistration, 'definition'> {
  /** The service's `.proto`, relative to the protos root (`isams_sync/roster/v1/roster_service.proto`). */
  proto: string;
  /** Its service definition in the loaded package (`(pkg) => pkg.isams_sync.roster.v1.RosterService.service`). */
  definition: (pkg: P) => GrpcServiceRegistration['definition'];
}

/**
 * A back-end service's one service, with the callers allowed per method, on the gRPC server that
 * `openServiceHealth` started on `GRPC_PORT` (its proto loaded from `PROTOS_DIR` when set; health
 * following readiness, reflection when `GRPC_REFLECTION` is on).
 */
export function serveServiceGrpc<P>(
  config: Pick<GrpcServerSettings, 'PROTOS_DIR'>,
  grpc: GrpcServerHandle,
  opts: ServiceGrpcOptions<P>,
): void {
  const pkg = loadProtoPackage<P>(opts.proto, protosDirOption(config));
  grpc.addServices([
    {
      name: opts.name,
      definition: opts.definition(pkg),
      implementation: opts.implementation,
      callers: opts.callers,
    },
  ]);
}
