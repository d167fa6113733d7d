import { env } from '@isams-sync/config';
import { z } from 'zod';
import { loadServiceKeyring } from './service-identity';
import type { ServiceKeyring } from './service-identity';

/**
 * The service-identity part of the environment of every service that calls or serves gRPC (spread it
 * into the service's zod schema). See docs/configuration.md and docs/security.md.
 */
export const grpcIdentityConfig = {
  /**
   * Directory of `<caller>-to-<callee>.key` files (the chart mounts the service's pairs of the
   * release's service-identity Secret there; `startSystem` and the dev tools write one).
   */
  GRPC_IDENTITY_DIR: z.string().trim().min(1),
} as const;

/** {@link grpcIdentityConfig} plus the settings of a gRPC server (connector, roster, bookings). */
export const grpcServerConfig = {
  GRPC_PORT: env.port({ allowZero: true }).default(50051),
  /** Where the `.proto` files are (container images set it); else the repo's `protos/`. */
  PROTOS_DIR: z.string().trim().min(1).optional(),
  ...grpcIdentityConfig,
  /** Serve gRPC server reflection (grpcurl/grpcui); off unless set. It still needs a service token. */
  GRPC_REFLECTION: env.bool().default(false),
} as const;

/** The parsed identity settings. */
export type GrpcIdentityConfig = z.infer<z.ZodObject<typeof grpcIdentityConfig>>;

/** This service's keyring from `GRPC_IDENTITY_DIR`; throws (at start-up) when a key file is bad. */
export function serviceKeyringFromConfig(config: GrpcIdentityConfig, service: string): ServiceKeyring {
  return loadServiceKeyring(config.GRPC_IDENTITY_DIR, service);
}
