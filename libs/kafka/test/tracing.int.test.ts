import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import type { CloudEvent } from '@isams-sync/events';
import { startTelemetry, telemetryServiceConfig, traceCarrierOf, withSpan } from '@isams-sync/telemetry';
import type { Telemetry } from '@isams-sync/telemetry';
import { eventually, uniqueName } from '@isams-sync/testing';
import { trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createEventProducer, headerValue } from '../src/index';
import type { KafkaClient } from '../src/index';
import {
  consumeFromStart,
  freshTopic,
  pings,
  readRaw,
  testClient,
  testLogger,
} from './support/kafka-test-kit';

const exporter = new InMemorySpanExporter();
let telemetry: Telemetry;
let client: KafkaClient;

beforeAll(async () => {
  telemetry = await startTelemetry({
    service: 'kafka-test',
    config: z.object(telemetryServiceConfig).parse({}),
    exporter,
  });
  client = testClient();
});
afterAll(async () => {
  await telemetry.shutdown();
});

/** Real broker: the CloudEvents `traceparent` extension carries the publishing span to the handler. */
describe('trace context through Kafka (real broker)', () => {
  it('publish stamps ce_traceparent; the handler runs in a CONSUMER span that is its child', async () => {
    exporter.reset();
    const { topic } = await freshTopic(client, 1);
    const producer = createEventProducer(client, { logger: testLogger });
    const seen: Array<{ event: CloudEvent; traceId?: string }> = [];
    const consumer = consumeFromStart(client, topic, {
      groupId: uniqueName('trace-group'),
      handler: async (event) => {
        seen.push({ event, traceId: trace.getActiveSpan()?.spanContext().traceId });
      },
    });
    try {
      await consumer.ready;
      const caller = await withSpan('caller', {}, async (span) => {
        await producer.publish(topic, pings(2, ['school-a']));
        return span.spanContext();
      });
      await eventually(() => seen.length === 2, 'both events handled');
      const raw = await readRaw(client, topic, 2);
      const publish = exporter.getFinishedSpans().find((s) => s.name === `publish ${topic}`)!;
      expect(publish.parentSpanContext?.spanId).toBe(caller.spanId);
      for (const r of raw)
        expect(headerValue(r.headers, 'ce_traceparent')).toBe(
          `00-${caller.traceId}-${publish.spanContext().spanId}-01`,
        );
      expect(seen.map((s) => s.traceId)).toEqual([caller.traceId, caller.traceId]);
      await eventually(
        () => exporter.getFinishedSpans().filter((s) => s.name === `process ${topic}`).length === 2,
        'consumer spans ended',
      );
      for (const s of exporter.getFinishedSpans().filter((x) => x.name === `process ${topic}`)) {
        expect(s.spanContext().traceId).toBe(caller.traceId);
        expect(s.parentSpanContext?.spanId).toBe(publish.spanContext().spanId);
        expect(s.attributes['isams_sync.tenant_id']).toBe('school-a');
      }
    } finally {
      await consumer.stop();
      await producer.disconnect();
    }
  });

  it('a batch handler runs in a span of its own trace, linked to every event it handles', async () => {
    exporter.reset();
    const { topic } = await freshTopic(client, 1);
    const producer = createEventProducer(client, { logger: testLogger });
    const handled: string[] = [];
    let batchTraceId: string | undefined;
    // Two events from two different traces (two runs), published before the consumer starts so
    // they arrive in one batch.
    const carriers = [];
    for (const [i, school] of ['school-a', 'school-b'].entries()) {
      carriers.push(
        await withSpan(`run ${i}`, {}, async () => {
          const carrier = traceCarrierOf();
          await producer.publish(topic, pings(1, [school], uniqueName('run')));
          return carrier;
        }),
      );
    }
    const consumer = consumeFromStart(client, topic, {
      groupId: uniqueName('trace-batch'),
      handler: async (event) => {
        handled.push(event.id);
      },
      batchHandler: async (events) => {
        batchTraceId = trace.getActiveSpan()?.spanContext().traceId;
        handled.push(...events.map((e) => e.id));
      },
    });
    try {
      await eventually(() => handled.length === 2, 'both events handled');
      await eventually(
        () => exporter.getFinishedSpans().some((s) => s.name === `process ${topic}`),
        'batch span ended',
      );
      const batch = exporter.getFinishedSpans().find((s) => s.name === `process ${topic}`)!;
      const publishes = exporter.getFinishedSpans().filter((s) => s.name === `publish ${topic}`);
      expect(batch.attributes['messaging.batch.message_count']).toBe(2);
      expect(batch.parentSpanContext).toBeUndefined();
      expect(batchTraceId).toBe(batch.spanContext().traceId);
      expect(batch.links.map((l) => l.context.spanId).sort()).toEqual(
        publishes.map((p) => p.spanContext().spanId).sort(),
      );
      expect(new Set(carriers.map((c) => c.traceparent!.split('-')[1]))).toEqual(
        new Set(batch.links.map((l) => l.context.traceId)),
      );
    } finally {
      await consumer.stop();
      await producer.disconnect();
    }
  });

  it('a malformed ce_traceparent is ignored (new trace), never a reason to dead-letter the event', async () => {
    const { fromKafkaMessage } = await import('../src/index');
    const event = fromKafkaMessage({
      key: 'school-a',
      value: '{"message":"m","sequence":1}',
      headers: {
        ce_specversion: '1.0',
        ce_id: 'e1',
        ce_source: '/test',
        ce_type: 'com.schoolcloud.isams-sync.platform.ping.v1',
        ce_time: new Date().toISOString(),
        ce_tenantid: 'school-a',
        ce_traceparent: 'not-a-traceparent',
        ce_tracestate: 'a=b',
        'content-type': 'application/json',
      },
    });
    expect(event.traceparent).toBeUndefined();
    expect(event.tracestate).toBeUndefined();
    expect(event.id).toBe('e1');
  });
});

/** Batch mode: the batch's span is a trace of its own; `inEventTrace` puts an event's work back in its trace. */
describe('trace context of a batch’s events (real broker)', () => {
  it('inEventTrace runs an event’s work in a span of that event’s trace, linked to the batch’s span', async () => {
    exporter.reset();
    const { topic } = await freshTopic(client, 1);
    const producer = createEventProducer(client, { logger: testLogger });
    for (const school of ['school-c', 'school-d'])
      await withSpan(`run ${school}`, {}, () =>
        producer.publish(topic, pings(1, [school], uniqueName('run'))),
      );
    const inside: Array<{ eventId: string; traceId: string | undefined }> = [];
    const consumer = consumeFromStart(client, topic, {
      groupId: uniqueName('trace-event'),
      handler: async () => {},
      batchHandler: async (events, ctx) => {
        for (const event of events)
          await ctx.inEventTrace(event, async () => {
            inside.push({ eventId: event.id, traceId: trace.getActiveSpan()?.spanContext().traceId });
          });
      },
    });
    try {
      await eventually(() => inside.length === 2, 'both events handled in their traces');
      await eventually(
        () => exporter.getFinishedSpans().filter((s) => s.name === `process ${topic}`).length === 3,
        'the batch span and two event spans ended',
      );
      const processSpans = exporter.getFinishedSpans().filter((s) => s.name === `process ${topic}`);
      const batch = processSpans.find((s) => s.attributes['messaging.batch.message_count'] === 2)!;
      const publishes = exporter.getFinishedSpans().filter((s) => s.name === `publish ${topic}`);
      for (const { eventId, traceId } of inside) {
        const span = processSpans.find((s) => s.attributes['cloudevents.event_id'] === eventId)!;
        // A child of the span that published the event: its trace, not the batch's.
        const publish = publishes.find((p) => p.spanContext().spanId === span.parentSpanContext?.spanId);
        expect(publish).toBeDefined();
        expect(span.spanContext().traceId).toBe(publish!.spanContext().traceId);
        expect(traceId).toBe(span.spanContext().traceId);
        expect(traceId).not.toBe(batch.spanContext().traceId);
        expect(span.links.map((l) => l.context.spanId)).toEqual([batch.spanContext().spanId]);
      }
    } finally {
      await consumer.stop();
      await producer.disconnect();
    }
  });
});
