import type { TelemetryServiceConfig } from './telemetry-config';
import { tracesEndpoint } from './telemetry-config';

/** The logging surface {@link startTelemetry} needs (a pino logger fits). */
interface TelemetryLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** Options of {@link startTelemetry}. */
export interface StartTelemetryOptions {
  /** The service's own name (`connector` …): `service.name` unless `OTEL_SERVICE_NAME` is set. */
  service: string;
  config: TelemetryServiceConfig;
  logger?: TelemetryLogger;
  /**
   * Tests only: export finished spans here instead of over OTLP (an `InMemorySpanExporter` of
   * `@opentelemetry/sdk-trace`), synchronously (a simple span processor).
   */
  exporter?: unknown;
}

/** The tracing of a process. */
export interface Telemetry {
  /** True when an SDK is registered and exporting; false = the API's no-op tracer, nothing recorded. */
  readonly enabled: boolean;
  /** Exports the spans still buffered. */
  flush(): Promise<void>;
  /** Flushes, stops exporting and unregisters the SDK (idempotent). Call last in `stop()`. */
  shutdown(): Promise<void>;
}

const DISABLED: Telemetry = {
  enabled: false,
  flush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};

/**
 * Starts tracing for this process when the settings name an OTLP endpoint (see
 * `telemetryServiceConfig`): a tracer provider with a batch span processor and the OTLP/HTTP
 * (protobuf) exporter, the AsyncLocalStorage context manager and the W3C trace-context propagator,
 * all registered globally with `@opentelemetry/api`. Without an endpoint (or with
 * `OTEL_SDK_DISABLED=true`, `OTEL_TRACES_EXPORTER=none`) it registers nothing and does not even load
 * the SDK modules: every span of the code is then the API's non-recording no-op span, no context is
 * injected into gRPC metadata or Kafka messages, and log lines carry no trace ids.
 *
 * Call it first in `main.ts`, before the app is created.
 */
export async function startTelemetry(options: StartTelemetryOptions): Promise<Telemetry> {
  const url = tracesEndpoint(options.config);
  if (url === undefined && options.exporter === undefined) return DISABLED;

  // Loaded only when tracing is on: a process without an endpoint never loads the SDK.
  const [api, sdk, hooks, core, resources, semconv] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/context-async-hooks'),
    import('@opentelemetry/core'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/semantic-conventions'),
  ]);
  const serviceName = options.config.OTEL_SERVICE_NAME ?? options.service;
  const ratio = options.config.OTEL_TRACES_SAMPLER_ARG ?? 1;
  const sampler = (() => {
    switch (options.config.OTEL_TRACES_SAMPLER) {
      case 'always_on':
        return new sdk.AlwaysOnSampler();
      case 'always_off':
        return new sdk.AlwaysOffSampler();
      case 'traceidratio':
        return new sdk.TraceIdRatioBasedSampler(ratio);
      case 'parentbased_always_off':
        return new sdk.ParentBasedSampler({ root: new sdk.AlwaysOffSampler() });
      case 'parentbased_traceidratio':
        return new sdk.ParentBasedSampler({ root: new sdk.TraceIdRatioBasedSampler(ratio) });
      default:
        return new sdk.ParentBasedSampler({ root: new sdk.AlwaysOnSampler() });
    }
  })();
  let processor;
  if (options.exporter !== undefined) {
    processor = new sdk.SimpleSpanProcessor({ exporter: options.exporter as never });
  } else {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
    processor = new sdk.BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: url! }) });
  }
  const provider = new sdk.TracerProvider({
    sampler,
    // SDK defaults, then OTEL_RESOURCE_ATTRIBUTES, then this service's name (OTEL_SERVICE_NAME wins).
    resource: resources
      .defaultResource()
      .merge(resources.detectResources({ detectors: [resources.envDetector] }))
      .merge(
        resources.resourceFromAttributes({
          [semconv.ATTR_SERVICE_NAME]: serviceName,
          'service.namespace': 'isams-sync',
        }),
      ),
    spanProcessors: [processor],
  });
  const contextManager = new hooks.AsyncLocalStorageContextManager().enable();
  api.context.setGlobalContextManager(contextManager);
  api.propagation.setGlobalPropagator(new core.W3CTraceContextPropagator());
  api.trace.setGlobalTracerProvider(provider);
  options.logger?.info(
    {
      otlpEndpoint: url ?? 'test exporter',
      serviceName,
      sampler: options.config.OTEL_TRACES_SAMPLER,
    },
    'tracing on: spans exported over OTLP',
  );

  let stopped: Promise<void> | undefined;
  return {
    enabled: true,
    flush: () => provider.forceFlush(),
    shutdown: () => {
      stopped ??= provider
        .shutdown()
        .catch((err: unknown) => options.logger?.warn({ err }, 'tracing shutdown failed'))
        .finally(() => {
          api.trace.disable();
          api.propagation.disable();
          api.context.disable();
        });
      return stopped;
    },
  };
}
