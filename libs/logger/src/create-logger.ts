import { hostname } from 'node:os';
import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import pino from 'pino';
import type { DestinationStream, LevelWithSilent, Logger } from 'pino';
import pretty from 'pino-pretty';
import { scrubbingErrSerializer } from './error-serializer';
import { REDACTED, REDACTED_PATHS } from './redaction';
import { scrubFieldText, scrubSecrets, scrubValue } from './scrub';

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  /** Service name, added to every line as `service`. */
  service: string;
  /** Minimum level; default `info`. */
  level?: LevelWithSilent;
  /** Where lines go; default stdout. Tests pass a stream to capture output. */
  destination?: DestinationStream;
  /** Additional pino redact paths on top of {@link REDACTED_PATHS}. */
  extraRedactPaths?: string[];
  /** Human-readable coloured output for local development (never in containers). */
  pretty?: boolean;
}

const scrubMessage = (msg: unknown): unknown => (typeof msg === 'string' ? scrubSecrets(msg) : msg);

const NO_TRACE = Object.freeze({});

/**
 * `trace_id`/`span_id` of the active span (OpenTelemetry), so a log line can be found from its trace
 * and back. With tracing off there is never an active span: the line gets no fields.
 */
export function traceLogFields(): { trace_id?: string; span_id?: string } {
  const spanContext = trace.getSpanContext(context.active());
  if (spanContext === undefined || !isSpanContextValid(spanContext)) return NO_TRACE;
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}

/**
 * Creates the process's root logger (create one per process, then `child()` per module/request).
 *
 * Lines are JSON with `level` as a label, ISO `time`, and `service`, `pid`, `hostname`. Errors go
 * under `err` (pino's standard serializer). Three layers keep keys and personal data out:
 * 1. pino `redact` over {@link REDACTED_PATHS} (+ `extraRedactPaths`), censor `[REDACTED]`;
 * 2. a deep, case-insensitive scrub of sensitive field names and of `apiKey=`/braced-GUID/URL
 *    credential text in every field value;
 * 3. {@link scrubSecrets} over the message and the error's message and stack (every GUID goes).
 *
 * While an OpenTelemetry span is active, lines carry its `trace_id` and `span_id` ({@link traceLogFields}).
 *
 * @example
 * ```ts
 * const logger = createLogger({ service: 'roster', level: config.LOG_LEVEL });
 * const log = logger.child({ module: 'sync', tenantId, syncRunId });
 * log.error({ err }, 'dataset import failed');
 * ```
 */
export function createLogger(opts: CreateLoggerOptions): Logger {
  const options: pino.LoggerOptions = {
    level: opts.level ?? 'info',
    base: { service: opts.service, pid: process.pid, hostname: hostname() },
    timestamp: pino.stdTimeFunctions.isoTime,
    errorKey: 'err',
    mixin: traceLogFields,
    // pino's default merge copies the line's fields into the mixin's object; without a span there is
    // nothing to merge (and the shared empty object must stay empty).
    mixinMergeStrategy: (mergeObject, mixinObject) =>
      mixinObject === NO_TRACE ? mergeObject : Object.assign(mixinObject, mergeObject),
    redact: { paths: [...REDACTED_PATHS, ...(opts.extraRedactPaths ?? [])], censor: REDACTED },
    serializers: {
      err: scrubbingErrSerializer,
      error: scrubbingErrSerializer,
      // pino passes the final, formatted message through the serializer of its message key.
      msg: scrubMessage,
    },
    formatters: {
      level: (label) => ({ level: label }),
      log: (object) => scrubValue(object, scrubFieldText) as Record<string, unknown>,
    },
  };
  const destination = opts.pretty
    ? pretty({ colorize: true, sync: true, destination: opts.destination ?? 1 })
    : opts.destination;
  return scrubbingBindings(destination ? pino(options, destination) : pino(options));
}

const scrubBindings = (bindings: pino.Bindings): pino.Bindings =>
  scrubValue(bindings, scrubFieldText) as pino.Bindings;

/**
 * Gives child bindings the deep field scrub of `formatters.log`. pino applies `formatters.bindings`
 * to the root's `base` only: `child()` replaces it by an identity function before serialising a
 * child's bindings (pino 10, lib/proto.js `resetChildingsFormatter`), and `setBindings()` uses the
 * child's. So the scrub wraps the two methods on the root; children (made with `Object.create`) and
 * their children inherit the wrappers, and a child's own `options.formatters.bindings` still runs,
 * on the scrubbed bindings.
 */
function scrubbingBindings(logger: Logger): Logger {
  const { child, setBindings } = logger;
  return Object.assign(logger, {
    child(this: Logger, bindings: pino.Bindings, childOptions?: pino.ChildLoggerOptions): Logger {
      return child.call<Logger, [pino.Bindings, pino.ChildLoggerOptions?], Logger>(
        this,
        scrubBindings(bindings),
        childOptions,
      );
    },
    setBindings(this: Logger, bindings: pino.Bindings) {
      setBindings.call(this, scrubBindings(bindings));
    },
  });
}
