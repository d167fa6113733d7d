import { InterceptingCall, status } from '@grpc/grpc-js';
import type { Interceptor, Metadata } from '@grpc/grpc-js';
import { extractContext, injectContext, SpanKind, SpanStatusCode, startSpan } from '@isams-sync/telemetry';
import type { Context, Span, TextMapGetter, TextMapSetter } from '@isams-sync/telemetry';
import { TENANT_ID_KEY, metadataString } from './call-metadata';

const metadataSetter: TextMapSetter<Metadata> = {
  set: (metadata, key, value) => metadata.set(key, value),
};
const metadataGetter: TextMapGetter<Metadata> = {
  keys: (metadata) => Object.keys(metadata.getMap()),
  get: (metadata, key) => metadataString(metadata, key),
};

/** `/pkg.Service/Method` → the semantic-convention attributes of an RPC span. */
function rpcAttributes(path: string): Record<string, string> {
  const [, service = '', method = ''] = path.split('/');
  return { 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': method };
}

/** Ends a span with the call's gRPC status (not OK = error, the status name as `error.type`). */
function endWithStatus(span: Span, code: number): void {
  span.setAttribute('rpc.grpc.status_code', code);
  if (code !== status.OK) {
    const name = status[code] ?? 'UNKNOWN';
    span.setAttribute('error.type', name);
    span.setStatus({ code: SpanStatusCode.ERROR, message: name });
  }
  span.end();
}

/**
 * A client interceptor that opens a CLIENT span per call (a child of the caller's active span) and
 * sends its W3C trace context as `traceparent`/`tracestate` metadata. With tracing off the span is
 * the no-op one and nothing is added to the metadata.
 */
export function tracingClientInterceptor(): Interceptor {
  return (options, nextCall) => {
    const path = options.method_definition.path;
    let span: Span | undefined;
    return new InterceptingCall(nextCall(options), {
      start(metadata, _listener, next) {
        const tenant = metadataString(metadata, TENANT_ID_KEY);
        const started = startSpan(path.slice(1), {
          kind: SpanKind.CLIENT,
          attributes: {
            ...rpcAttributes(path),
            ...(tenant === undefined ? {} : { 'isams_sync.tenant_id': tenant }),
          },
        });
        span = started.span;
        injectContext(metadata, metadataSetter, started.context);
        // A partial listener: grpc-js passes the other events through unchanged.
        next(metadata, {
          onReceiveStatus(st, nextStatus) {
            if (span !== undefined) endWithStatus(span, st.code);
            span = undefined;
            nextStatus(st);
          },
        });
      },
    });
  };
}

/** A SERVER span for an inbound call, a child of the trace context in its metadata. */
export function startServerSpan(
  path: string,
  metadata: Metadata,
): { span: Span; context: Context; tenant(tenantId: string | undefined): void; end(code: number): void } {
  const parent = extractContext(metadata, metadataGetter);
  const started = startSpan(path.slice(1), {
    kind: SpanKind.SERVER,
    parent,
    attributes: rpcAttributes(path),
  });
  let ended = false;
  return {
    ...started,
    tenant(tenantId) {
      if (tenantId !== undefined) started.span.setAttribute('isams_sync.tenant_id', tenantId);
    },
    end(code) {
      if (ended) return;
      ended = true;
      endWithStatus(started.span, code);
    },
  };
}
