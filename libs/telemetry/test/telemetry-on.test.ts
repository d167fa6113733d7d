import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { loggerWithLines } from './log-lines';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  contextFromCarrier,
  linkTo,
  ROOT_CONTEXT,
  startTelemetry,
  telemetryServiceConfig,
  traceCarrierOf,
  tracesEndpoint,
  withSpan,
} from '../src';
import type { Telemetry } from '../src';
import { z } from 'zod';

const parse = (env: Record<string, string>) => z.object(telemetryServiceConfig).parse(env);
const exporter = new InMemorySpanExporter();
let telemetry: Telemetry;

beforeAll(async () => {
  telemetry = await startTelemetry({ service: 'unit', config: parse({}), exporter });
});
afterAll(() => telemetry.shutdown());

describe('tracing on', () => {
  it('names the OTLP traces URL from the standard variables', () => {
    expect(tracesEndpoint(parse({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' }))).toBe(
      'http://c:4318/v1/traces',
    );
    expect(
      tracesEndpoint(
        parse({
          OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t/x',
        }),
      ),
    ).toBe('http://t/x');
    expect(tracesEndpoint(parse({}))).toBeUndefined();
  });

  it('records nested spans, carries the context through a carrier, links, and marks failures by code only', async () => {
    exporter.reset();
    const carrier = await withSpan('parent', { attributes: { 'isams_sync.tenant_id': 's1' } }, () =>
      withSpan('child', {}, () => traceCarrierOf()),
    );
    expect(carrier.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    // A later, unrelated piece of work continues the trace from the stored carrier.
    await withSpan('resumed', { parent: contextFromCarrier(carrier) }, () => undefined);
    const link = linkTo(carrier);
    await withSpan('batch', { parent: ROOT_CONTEXT, links: link ? [link] : [] }, () => undefined);
    const err = Object.assign(new Error('pupil Jane Doe not found'), { code: 'ROSTER_PERSON_NOT_FOUND' });
    await expect(withSpan('failing', {}, () => Promise.reject(err))).rejects.toBe(err);

    const spans = Object.fromEntries(exporter.getFinishedSpans().map((s) => [s.name, s]));
    const parent = spans.parent!;
    const child = spans.child!;
    expect(child.spanContext().traceId).toBe(parent.spanContext().traceId);
    expect(child.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(spans.resumed!.parentSpanContext?.spanId).toBe(child.spanContext().spanId);
    expect(spans.resumed!.spanContext().traceId).toBe(parent.spanContext().traceId);
    expect(spans.batch!.spanContext().traceId).not.toBe(parent.spanContext().traceId);
    expect(spans.batch!.links[0]?.context.spanId).toBe(child.spanContext().spanId);
    expect(spans.failing!.status).toEqual({ code: 2, message: 'ROSTER_PERSON_NOT_FOUND' });
    expect(JSON.stringify(spans.failing!.attributes)).not.toContain('Jane');
    expect(spans.failing!.events).toEqual([]);
  });

  it('puts trace_id and span_id on log lines written inside a span', async () => {
    const { logger, lines } = loggerWithLines('unit');
    logger.info('outside');
    const ids = await withSpan('logged', {}, () => {
      logger.info({ count: 2 }, 'inside');
      return trace.getActiveSpan()!.spanContext();
    });
    expect(lines[0]).not.toHaveProperty('trace_id');
    expect(lines[1]).toMatchObject({ trace_id: ids.traceId, span_id: ids.spanId, count: 2, msg: 'inside' });
  });
});
