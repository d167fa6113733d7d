import { commonServiceConfig, env } from '@isams-sync/config';
import { grpcServerConfig } from '@isams-sync/grpc';
import { kafkaServiceConfig } from '@isams-sync/kafka';
import { telemetryServiceConfig } from '@isams-sync/telemetry';
import { z } from 'zod';

/**
 * The settings every back-end service (connector, roster, bookings: a gRPC server, a Kafka client)
 * reads the same way: libs/config `commonServiceConfig` (ports, log level, shutdown and readiness
 * timing), libs/telemetry `telemetryServiceConfig`, libs/grpc `grpcServerConfig` and libs/kafka
 * `kafkaServiceConfig`. Spread it into the service's zod schema, then the service's own variables.
 */
export const backendServiceConfig = {
  ...commonServiceConfig,
  ...telemetryServiceConfig,
  ...grpcServerConfig,
  ...kafkaServiceConfig,
} as const;

/**
 * A service's database (`MONGO_URL`, a secret; `MONGO_DB`, by default the service's own name), the
 * variables libs/mongo `mongoOptionsFromConfig` reads.
 */
export function mongoServiceConfig(defaultDb: string) {
  return {
    MONGO_URL: env.secret(),
    MONGO_DB: z.string().trim().min(1).default(defaultDb),
  } as const;
}
