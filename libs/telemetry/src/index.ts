/**
 * `@isams-sync/telemetry` — tracing with OpenTelemetry: start (or not) the SDK from the standard
 * `OTEL_*` variables, run work in spans, and carry the W3C trace context across gRPC, Kafka
 * (CloudEvents `traceparent`/`tracestate`) and stored documents. Off (no OTLP endpoint) nothing is
 * registered and every call here is the API's no-op. See docs/observability.md.
 * @packageDocumentation
 */
export { telemetryServiceConfig, tracesEndpoint, TRACE_SAMPLERS } from './telemetry-config';
export type { TelemetryServiceConfig } from './telemetry-config';
export { startTelemetry } from './start-telemetry';
export type { StartTelemetryOptions, Telemetry } from './start-telemetry';
export {
  TRACER_NAME,
  activeSpanContext,
  contextFromCarrier,
  extractContext,
  injectContext,
  linkTo,
  recordSpanError,
  startSpan,
  traceCarrierOf,
  withContext,
  withSpan,
} from './spans';
export type { SpanOptions, TraceCarrier } from './spans';
export { ROOT_CONTEXT, SpanKind, SpanStatusCode } from '@opentelemetry/api';
export type { Attributes, Context, Link, Span, TextMapGetter, TextMapSetter } from '@opentelemetry/api';
