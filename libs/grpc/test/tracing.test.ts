import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { startTelemetry, telemetryServiceConfig, withSpan } from '@isams-sync/telemetry';
import type { Telemetry } from '@isams-sync/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { callMetadata, createGrpcClient, promisifyUnary } from '../src';
import type { GrpcServerHandle } from '../src';
import { captureLogger, echoIdentity, loadEchoPackage, startEchoServer } from './helpers/echo-service';

const EchoService = loadEchoPackage().isams_sync.testing.v1.EchoService;
const exporter = new InMemorySpanExporter();
let telemetry: Telemetry;
let handle: GrpcServerHandle;
let address: string;
const captured = captureLogger();

beforeAll(async () => {
  telemetry = await startTelemetry({
    service: 'grpc-test',
    config: z.object(telemetryServiceConfig).parse({}),
    exporter,
  });
  ({ handle, address } = await startEchoServer(captured.logger));
});
afterAll(async () => {
  await handle.shutdown(1000);
  await telemetry.shutdown();
});

describe('W3C trace context over gRPC metadata', () => {
  it('the server span is a child of the client span, itself a child of the caller', async () => {
    exporter.reset();
    const client = createGrpcClient(EchoService, address, { identity: echoIdentity() });
    try {
      const callerTrace = await withSpan('caller', {}, async (span) => {
        await promisifyUnary(client, 'echo')({ text: 'hi' }, callMetadata({ tenantId: 'school-1' }));
        return span.spanContext();
      });
      const spans = exporter.getFinishedSpans();
      const clientSpan = spans.find((s) => s.kind === 2 && s.name.endsWith('EchoService/Echo'))!;
      const serverSpan = spans.find((s) => s.kind === 1 && s.name.endsWith('EchoService/Echo'))!;
      expect(clientSpan.parentSpanContext?.spanId).toBe(callerTrace.spanId);
      expect(serverSpan.spanContext().traceId).toBe(callerTrace.traceId);
      expect(serverSpan.parentSpanContext?.spanId).toBe(clientSpan.spanContext().spanId);
      expect(serverSpan.parentSpanContext?.isRemote).toBe(true);
      expect(serverSpan.attributes).toMatchObject({
        'rpc.system': 'grpc',
        'rpc.method': 'Echo',
        'rpc.grpc.status_code': 0,
        'isams_sync.tenant_id': 'school-1',
      });
    } finally {
      client.close();
    }
  });

  it('a failed call ends both spans with the status, and the error message stays out', async () => {
    exporter.reset();
    const client = createGrpcClient(EchoService, address, { identity: echoIdentity() });
    try {
      await withSpan('caller', {}, () =>
        promisifyUnary(client, 'fail')(
          { mode: 'MODE_APP_ERROR', key: 'k' },
          callMetadata({ tenantId: 'school-1' }),
        ),
      ).catch(() => undefined);
      const spans = exporter.getFinishedSpans().filter((s) => s.name.endsWith('EchoService/Fail'));
      expect(spans).toHaveLength(2);
      for (const s of spans) {
        expect(s.status).toEqual({ code: 2, message: 'NOT_FOUND' });
        expect(JSON.stringify(s.attributes)).not.toContain('t1');
      }
      // The handler's log line of the failure carries the server span's ids.
      const server = spans.find((s) => s.kind === 1)!;
      const line = captured.lines.find(
        (l) => l.msg === 'gRPC call rejected' && l.span_id === server.spanContext().spanId,
      );
      expect(line?.trace_id).toBe(server.spanContext().traceId);
    } finally {
      client.close();
    }
  });
});
