import { env } from '@isams-sync/config';
import { z } from 'zod';

/** The samplers of the OpenTelemetry specification that `OTEL_TRACES_SAMPLER` may name. */
export const TRACE_SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;

/**
 * The tracing part of every service's environment: the standard `OTEL_*` variables this project
 * reads (spread into the service's zod schema, like `kafkaServiceConfig`). Tracing is on only when
 * an OTLP endpoint is set and the SDK is not disabled; see docs/observability.md. The OTLP exporter
 * also reads its own standard variables (`OTEL_EXPORTER_OTLP_HEADERS`, `…_TIMEOUT`, `…_COMPRESSION`).
 */
export const telemetryServiceConfig = {
  /** `true` turns tracing off whatever else is set (OpenTelemetry's standard kill switch). */
  OTEL_SDK_DISABLED: env.bool().default(false),
  /** OTLP/HTTP base URL of the collector, e.g. `http://otel-collector:4318` (`/v1/traces` is appended). */
  OTEL_EXPORTER_OTLP_ENDPOINT: env.url({ protocols: ['http', 'https'] }).optional(),
  /** Full OTLP/HTTP URL for traces only (used as is; wins over `OTEL_EXPORTER_OTLP_ENDPOINT`). */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: env.url({ protocols: ['http', 'https'] }).optional(),
  /** `otlp` (default) or `none` (tracing off). */
  OTEL_TRACES_EXPORTER: env.enum(['otlp', 'none']).default('otlp'),
  /** Resource `service.name` of the spans; default the service's name (`SERVICE_NAME`, else its own). */
  OTEL_SERVICE_NAME: z.string().trim().min(1).optional(),
  /** `key=value,…` resource attributes added to every span (read by the SDK's environment detector). */
  OTEL_RESOURCE_ATTRIBUTES: z.string().trim().min(1).optional(),
  /** Sampler (default `parentbased_always_on`: follow the caller's decision, sample every new trace). */
  OTEL_TRACES_SAMPLER: env.enum(TRACE_SAMPLERS).default('parentbased_always_on'),
  /** Ratio 0–1 of the `…traceidratio` samplers (default 1). */
  OTEL_TRACES_SAMPLER_ARG: z
    .string()
    .transform((raw) => Number(raw.trim()))
    .pipe(z.number({ error: 'expected a number from 0 to 1' }).min(0).max(1))
    .optional(),
} as const;

/** The parsed tracing settings of a service. */
export type TelemetryServiceConfig = z.infer<z.ZodObject<typeof telemetryServiceConfig>>;

/** The OTLP traces URL the settings name, or undefined when tracing is off. */
export function tracesEndpoint(config: TelemetryServiceConfig): string | undefined {
  if (config.OTEL_SDK_DISABLED || config.OTEL_TRACES_EXPORTER === 'none') return undefined;
  if (config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== undefined)
    return config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (config.OTEL_EXPORTER_OTLP_ENDPOINT === undefined) return undefined;
  return `${config.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`;
}
