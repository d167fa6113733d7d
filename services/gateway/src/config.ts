import { commonServiceConfig, env, loadConfig } from '@isams-sync/config';
import { grpcIdentityConfig } from '@isams-sync/grpc';
import { z } from 'zod';

/** The gateway's environment (docs/configuration.md#gateway). */
export const gatewayConfigSchema = z.object({
  ...commonServiceConfig,
  HTTP_HOST: z.string().trim().min(1).default('0.0.0.0'),
  HTTP_PORT: env.port({ allowZero: true }).default(8080),
  MONGO_URL: env.secret(),
  MONGO_DB: z.string().trim().min(1).default('gateway'),
  CONNECTOR_GRPC_ADDRESS: z.string().trim().min(1),
  ROSTER_GRPC_ADDRESS: z.string().trim().min(1),
  BOOKINGS_GRPC_ADDRESS: z.string().trim().min(1),
  ...grpcIdentityConfig,
  /** Deadline of ordinary upstream calls; TestConnection gets `GATEWAY_TEST_CONNECTION_TIMEOUT_MS`. */
  GATEWAY_UPSTREAM_TIMEOUT_MS: env.durationMs().default(10_000),
  GATEWAY_TEST_CONNECTION_TIMEOUT_MS: env.durationMs().default(120_000),
  GATEWAY_TOKEN_PEPPER: env.secret({ minLength: 32 }),
  GATEWAY_JWT_PUBLIC_KEYS: z.string().trim().min(1).optional(),
  GATEWAY_JWT_ISSUER: z.string().trim().min(1).optional(),
  GATEWAY_JWT_AUDIENCE: z.string().trim().min(1).optional(),
  GATEWAY_OPERATOR_TOKEN: env.secret({ minLength: 32 }).optional(),
  GATEWAY_BODY_LIMIT_BYTES: env.int({ min: 1024, max: 10_485_760 }).default(65_536),
  GATEWAY_RATE_LIMIT_PER_MINUTE: env.int({ min: 1 }).default(300),
  /** Per credential: connection tests and sync triggers hit the school's iSAMS. */
  GATEWAY_RATE_LIMIT_EXPENSIVE_PER_MINUTE: env.int({ min: 1 }).default(10),
  /** Failed authentications per client IP and minute before 429 (token guessing). */
  GATEWAY_FAILED_AUTH_PER_MINUTE: env.int({ min: 1 }).default(30),
  GATEWAY_TRUST_PROXY: env.bool().default(false),
  PROTOS_DIR: z.string().trim().min(1).optional(),
  /** Where the dashboard's files are (container images copy `src/web/` there). */
  GATEWAY_WEB_DIR: z.string().trim().min(1).optional(),
});

/** The parsed gateway configuration. */
export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

/** Validates the environment once; throws a `ConfigError` listing every bad variable. */
export function loadGatewayConfig(
  environment: Record<string, string | undefined> = process.env,
): GatewayConfig {
  return loadConfig(gatewayConfigSchema, environment);
}
