import { context, propagation, trace } from '@opentelemetry/api';
import type { ProxyTracerProvider } from '@opentelemetry/api';
import { loggerWithLines } from './log-lines';
import { describe, expect, it } from 'vitest';
import { contextFromCarrier, startTelemetry, telemetryServiceConfig, traceCarrierOf, withSpan } from '../src';
import { z } from 'zod';

const parse = (env: Record<string, string>) => z.object(telemetryServiceConfig).parse(env);
const PARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

/**
 * "Off costs nothing": without an OTLP endpoint no SDK is registered — the global tracer provider
 * stays the API's proxy with no delegate (the no-op tracer), no propagator and no context manager
 * are installed, spans do not record, and nothing is injected or extracted.
 */
describe('tracing off (no OTLP endpoint, or disabled)', () => {
  it.each([
    ['no endpoint', {}],
    [
      'OTEL_SDK_DISABLED=true',
      { OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' },
    ],
    [
      'OTEL_TRACES_EXPORTER=none',
      { OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' },
    ],
  ])('%s: registers nothing, spans are no-ops, no context travels', async (_name, env) => {
    const telemetry = await startTelemetry({ service: 'test', config: parse(env) });
    expect(telemetry.enabled).toBe(false);
    const provider = trace.getTracerProvider() as ProxyTracerProvider;
    expect(provider.getDelegate().constructor.name).toBe('NoopTracerProvider');
    expect(propagation.fields()).toEqual([]);

    const { logger, lines } = loggerWithLines('test');
    const seen = await withSpan('work', {}, (span) => {
      logger.info({ n: 1 }, 'inside');
      return { recording: span.isRecording(), carrier: traceCarrierOf() };
    });
    expect(seen).toEqual({ recording: false, carrier: {} });
    expect(lines[0]).not.toHaveProperty('trace_id');
    // An incoming traceparent is not read either: the context stays the root.
    expect(trace.getSpanContext(contextFromCarrier({ traceparent: PARENT }))).toBeUndefined();
    expect(context.active()).toBe(context.active());
    await telemetry.shutdown();
  });

  it('refuses a malformed setting with a clear error', () => {
    expect(() => parse({ OTEL_TRACES_SAMPLER: 'sometimes' })).toThrow(/expected one of always_on/);
    expect(() => parse({ OTEL_TRACES_SAMPLER_ARG: '2' })).toThrow();
    expect(() => parse({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow();
  });
});
