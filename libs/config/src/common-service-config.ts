import { z } from 'zod';
import { env } from './env-fields';

/**
 * Variables every service reads; spread into a service schema:
 * `z.object({ ...commonServiceConfig, ... })`.
 *
 * - `NODE_ENV`: `development` | `test` | `production` (default `production`).
 * - `LOG_LEVEL`: pino level (default `info`).
 * - `SERVICE_NAME`: optional override of the service's name in its log lines and (unless
 *   `OTEL_SERVICE_NAME` is set) its spans; metrics keep the service's own name.
 * - `OPS_PORT`: HTTP port for `/metrics`, `/health`, `/ready` (default 9464; 0 = any free port).
 * - `SHUTDOWN_TIMEOUT_MS`: graceful-shutdown deadline, a duration like `10s` (default 10 000 ms).
 * - `READINESS_INTERVAL_MS`: pause between two rounds of readiness probes of Kafka/MongoDB (default 5 s).
 * - `READINESS_TIMEOUT_MS`: how long one readiness probe may take before the dependency counts as
 *   unreachable (default 3 s).
 * - `METRICS_SAMPLE_INTERVAL_MS`: pause between two rounds of the gauges computed from Kafka or the
 *   database (consumer lag, schools' last good sync; default 30 s).
 */
export const commonServiceConfig = {
  NODE_ENV: env.enum(['development', 'test', 'production']).default('production'),
  LOG_LEVEL: env.logLevel().default('info'),
  SERVICE_NAME: z.string().trim().min(1).optional(),
  OPS_PORT: env.port({ allowZero: true }).default(9464),
  SHUTDOWN_TIMEOUT_MS: env.durationMs().default(10_000),
  READINESS_INTERVAL_MS: env.durationMs().pipe(z.number().min(100, 'expected at least 100ms')).default(5_000),
  READINESS_TIMEOUT_MS: env.durationMs().pipe(z.number().min(100, 'expected at least 100ms')).default(3_000),
  METRICS_SAMPLE_INTERVAL_MS: env
    .durationMs()
    .pipe(z.number().min(100, 'expected at least 100ms'))
    .default(30_000),
};

/** The parsed type of {@link commonServiceConfig}. */
export type CommonServiceConfig = z.infer<z.ZodObject<typeof commonServiceConfig>>;
