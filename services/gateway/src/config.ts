import { isIP } from 'node:net';
import { commonServiceConfig, env, loadConfig } from '@isams-sync/config';
import { grpcIdentityConfig } from '@isams-sync/grpc';
import { z } from 'zod';
import { mongoServiceConfig } from '@isams-sync/service-shell';
import { telemetryServiceConfig } from '@isams-sync/telemetry';

const HOUR = 3_600_000;

/**
 * `GATEWAY_TRUST_PROXY`: `false` (the socket address is the client), a number of proxy hops in front
 * of the gateway, or a comma list of proxy addresses/CIDRs. `true` is refused: it would make the
 * left-most `X-Forwarded-For` entry — which any client can write — the client address.
 */
const trustProxy = z.string().transform((raw, ctx): false | number | string[] => {
  const text = raw.trim().toLowerCase();
  if (text === 'false' || text === '0' || text === 'no') return false;
  if (/^\d+$/.test(text) && Number(text) <= 10) return Number(text);
  const entries = text.split(',').map((e) => e.trim());
  const valid = entries.every((entry) => {
    const [address, bits, ...rest] = entry.split('/');
    const family = isIP(address ?? '');
    if (family === 0 || rest.length > 0) return false;
    if (bits === undefined) return true;
    return /^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
  });
  if (!valid || entries.length === 0) {
    ctx.addIssue({
      code: 'custom',
      message:
        'expected false, the number of proxy hops in front of the gateway (1–10), or a comma list of proxy IPs/CIDRs (true is not accepted: it trusts any X-Forwarded-For a client sends)',
    });
    return z.NEVER;
  }
  return entries;
});

/** The gateway's environment (docs/configuration.md#gateway, docs/security.md). */
export const gatewayConfigSchema = z
  .object({
    ...commonServiceConfig,
    ...telemetryServiceConfig,
    HTTP_HOST: z.string().trim().min(1).default('0.0.0.0'),
    HTTP_PORT: env.port({ allowZero: true }).default(8080),
    /** The operator listener (token administration); loopback by default, never in the chart's Service. */
    GATEWAY_OPERATOR_HOST: z.string().trim().min(1).default('127.0.0.1'),
    GATEWAY_OPERATOR_PORT: env.port({ allowZero: true }).default(8081),
    ...mongoServiceConfig('gateway'),
    CONNECTOR_GRPC_ADDRESS: z.string().trim().min(1),
    ROSTER_GRPC_ADDRESS: z.string().trim().min(1),
    BOOKINGS_GRPC_ADDRESS: z.string().trim().min(1),
    ...grpcIdentityConfig,
    /** Deadline of ordinary upstream calls; TestConnection gets `GATEWAY_TEST_CONNECTION_TIMEOUT_MS`. */
    GATEWAY_UPSTREAM_TIMEOUT_MS: env.durationMs().default(10_000),
    GATEWAY_TEST_CONNECTION_TIMEOUT_MS: env.durationMs().default(120_000),
    GATEWAY_TOKEN_PEPPER: env.secret({ minLength: 32 }),
    /** Every admin token expires this long after it was issued (90 days). */
    GATEWAY_ADMIN_TOKEN_MAX_AGE: env.durationMs().default(90 * 24 * HOUR),
    GATEWAY_JWT_PUBLIC_KEYS: z.string().trim().min(1).optional(),
    GATEWAY_JWT_ISSUER: z.string().trim().min(1).optional(),
    GATEWAY_JWT_AUDIENCE: z.string().trim().min(1).optional(),
    /** A JWT must carry `iat` and be younger than this, whatever its `exp` says. */
    GATEWAY_JWT_MAX_AGE: env.durationMs().default(12 * HOUR),
    GATEWAY_OPERATOR_TOKEN: env.secret({ minLength: 32 }).optional(),
    GATEWAY_BODY_LIMIT_BYTES: env.int({ min: 1024, max: 10_485_760 }).default(65_536),
    GATEWAY_RATE_LIMIT_PER_MINUTE: env.int({ min: 1 }).default(300),
    /** Per credential: connection tests and sync triggers hit the school's iSAMS. */
    GATEWAY_RATE_LIMIT_EXPENSIVE_PER_MINUTE: env.int({ min: 1 }).default(10),
    /** Failed authentications per client address and minute; then that address's bad credentials get 429. */
    GATEWAY_FAILED_AUTH_PER_MINUTE: env.int({ min: 1 }).default(30),
    /** Client addresses the failed-auth limiter remembers at most (per replica). */
    GATEWAY_FAILED_AUTH_TRACKED_ADDRESSES: env.int({ min: 100, max: 1_000_000 }).default(10_000),
    GATEWAY_TRUST_PROXY: trustProxy.default(false),
    /** Time to receive a request's headers; then 408 and the connection is closed (slowloris). */
    GATEWAY_HEADERS_TIMEOUT_MS: env.durationMs().default(10_000),
    /** Time to receive a whole request (headers and body). */
    GATEWAY_REQUEST_TIMEOUT_MS: env.durationMs().default(30_000),
    /** How long an idle keep-alive connection stays open; above the load balancer's idle timeout. */
    GATEWAY_KEEP_ALIVE_TIMEOUT_MS: env.durationMs().default(65_000),
    /** A socket with no traffic this long is closed; must exceed the connection-test deadline. */
    GATEWAY_CONNECTION_TIMEOUT_MS: env.durationMs().default(150_000),
    /** Live-progress event streams open at once, per replica: overall, per school, per credential. */
    GATEWAY_SSE_MAX_STREAMS: env.int({ min: 1 }).default(500),
    GATEWAY_SSE_MAX_PER_SCHOOL: env.int({ min: 1 }).default(20),
    GATEWAY_SSE_MAX_PER_CREDENTIAL: env.int({ min: 1 }).default(5),
    /** An event stream is ended after this long (the page falls back to polling or reopens it). */
    GATEWAY_SSE_MAX_LIFETIME_MS: env.durationMs().default(30 * 60_000),
    /** How often an open event stream re-checks its credential (revoked or expired → stream ends). */
    GATEWAY_SSE_REVERIFY_MS: env.durationMs().default(15_000),
    /** Audit-log entries (actors' e-mail addresses) are deleted this many days after they were made. */
    AUDIT_RETENTION_DAYS: env.int({ min: 30, max: 3650 }).default(730),
    PROTOS_DIR: z.string().trim().min(1).optional(),
    /** Where the dashboard's files are (container images copy `src/web/` there). */
    GATEWAY_WEB_DIR: z.string().trim().min(1).optional(),
  })
  .superRefine((c, ctx) => {
    if (c.GATEWAY_JWT_PUBLIC_KEYS !== undefined) {
      for (const name of ['GATEWAY_JWT_ISSUER', 'GATEWAY_JWT_AUDIENCE'] as const) {
        if (c[name] === undefined)
          ctx.addIssue({
            code: 'custom',
            path: [name],
            message: 'required when GATEWAY_JWT_PUBLIC_KEYS is set',
          });
      }
    }
    if (c.GATEWAY_CONNECTION_TIMEOUT_MS <= c.GATEWAY_TEST_CONNECTION_TIMEOUT_MS) {
      ctx.addIssue({
        code: 'custom',
        path: ['GATEWAY_CONNECTION_TIMEOUT_MS'],
        message:
          'must be longer than GATEWAY_TEST_CONNECTION_TIMEOUT_MS (a connection test sends nothing until it ends)',
      });
    }
    if (c.GATEWAY_HEADERS_TIMEOUT_MS > c.GATEWAY_REQUEST_TIMEOUT_MS) {
      ctx.addIssue({
        code: 'custom',
        path: ['GATEWAY_HEADERS_TIMEOUT_MS'],
        message: 'must not be longer than GATEWAY_REQUEST_TIMEOUT_MS',
      });
    }
  });

/** The parsed gateway configuration. */
export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

/** Validates the environment once; throws a `ConfigError` listing every bad variable. */
export function loadGatewayConfig(
  environment: Record<string, string | undefined> = process.env,
): GatewayConfig {
  return loadConfig(gatewayConfigSchema, environment);
}
