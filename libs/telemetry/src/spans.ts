import {
  context,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import type {
  Attributes,
  Context,
  Link,
  Span,
  SpanContext,
  TextMapGetter,
  TextMapSetter,
} from '@opentelemetry/api';

/** The instrumentation scope of every span of isams-sync. */
export const TRACER_NAME = 'isams-sync';

/**
 * The W3C trace context of a span, as it travels in a CloudEvent (`traceparent`/`tracestate`
 * extension attributes, the CloudEvents distributed-tracing extension), in gRPC metadata and in a
 * stored document (a sync run, a changeset) whose work continues later.
 */
export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}

/** Options of {@link withSpan}. */
export interface SpanOptions {
  kind?: SpanKind;
  /** Ids and counts only: never names, e-mail addresses, URLs with keys or other personal data. */
  attributes?: Attributes;
  links?: Link[];
  /** The parent context (default: the active one). `ROOT_CONTEXT` starts a new trace. */
  parent?: Context;
}

const tracer = () => trace.getTracer(TRACER_NAME);

/** The stable code of an error (an `AppError`'s `code`, else its class name): no message, no data. */
function errorType(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
    if (err instanceof Error) return err.name;
  }
  return 'Error';
}

/**
 * Marks `span` failed with the error's stable code as `error.type` and status description. The
 * error's message is not recorded: messages may carry an upstream's text or personal data.
 */
export function recordSpanError(span: Span, err: unknown): void {
  const type = errorType(err);
  span.setAttribute('error.type', type);
  span.setStatus({ code: SpanStatusCode.ERROR, message: type });
}

/**
 * Runs `fn` inside a new active span (a child of `options.parent` or of the active context) and ends
 * it when `fn` settles; a throw or rejection marks it failed ({@link recordSpanError}) and is
 * rethrown. With tracing off the span is the API's no-op span.
 *
 * @example
 * ```ts
 * await withSpan('connector.fetch', { attributes: { 'isams_sync.tenant_id': tenantId } }, () => fetch());
 * ```
 */
export function withSpan<T>(
  name: string,
  options: SpanOptions,
  fn: (span: Span) => Promise<T> | T,
): Promise<T> {
  const { span, context: active } = startSpan(name, options);
  return context.with(active, async () => {
    try {
      return await fn(span);
    } catch (err) {
      recordSpanError(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

/**
 * Starts a span that the caller ends (for work whose end is not one callback: a gRPC client call, an
 * HTTP request), and the context with it active.
 */
export function startSpan(name: string, options: SpanOptions = {}): { span: Span; context: Context } {
  const parent = options.parent ?? context.active();
  const span = tracer().startSpan(
    name,
    {
      kind: options.kind ?? SpanKind.INTERNAL,
      ...(options.attributes === undefined ? {} : { attributes: options.attributes }),
      ...(options.links === undefined ? {} : { links: options.links }),
    },
    parent,
  );
  return { span, context: trace.setSpan(parent, span) };
}

/** Runs `fn` with `ctx` as the active context. */
export function withContext<T>(ctx: Context, fn: () => T): T {
  return context.with(ctx, fn);
}

const recordSetter: TextMapSetter<Record<string, string>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};
const recordGetter: TextMapGetter<TraceCarrier> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = (carrier as Record<string, unknown>)[key];
    return typeof value === 'string' ? value : undefined;
  },
};

/**
 * The W3C `traceparent`/`tracestate` of `ctx` (default: the active context); `{}` when there is no
 * valid span in it or tracing is off (no propagator registered).
 */
export function traceCarrierOf(ctx: Context = context.active()): TraceCarrier {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier, recordSetter);
  const out: TraceCarrier = {};
  if (carrier.traceparent !== undefined) out.traceparent = carrier.traceparent;
  if (carrier.tracestate !== undefined) out.tracestate = carrier.tracestate;
  return out;
}

/**
 * The context a carrier names (a remote parent), on top of `base` (default: a new root context, so
 * the carrier alone decides the parent). Without a carrier, or with tracing off, `base` itself.
 */
export function contextFromCarrier(carrier: TraceCarrier | undefined, base: Context = ROOT_CONTEXT): Context {
  if (carrier?.traceparent === undefined) return base;
  return propagation.extract(base, carrier, recordGetter);
}

/** A span link to the span a carrier names, or undefined (no carrier, tracing off, invalid). */
export function linkTo(carrier: TraceCarrier | undefined, attributes?: Attributes): Link | undefined {
  const spanContext = trace.getSpanContext(contextFromCarrier(carrier));
  if (spanContext === undefined || !isSpanContextValid(spanContext)) return undefined;
  return attributes === undefined ? { context: spanContext } : { context: spanContext, attributes };
}

/** Injects the active (or given) context into a carrier through a setter (gRPC metadata …). */
export function injectContext<C>(
  carrier: C,
  setter: TextMapSetter<C>,
  ctx: Context = context.active(),
): void {
  propagation.inject(ctx, carrier, setter);
}

/** The context a carrier read through a getter names, on top of `base` (default: a new root). */
export function extractContext<C>(
  carrier: C,
  getter: TextMapGetter<C>,
  base: Context = ROOT_CONTEXT,
): Context {
  return propagation.extract(base, carrier, getter);
}

/** The span context of the active span, when there is a valid one. */
export function activeSpanContext(): SpanContext | undefined {
  const spanContext = trace.getSpanContext(context.active());
  return spanContext !== undefined && isSpanContextValid(spanContext) ? spanContext : undefined;
}
