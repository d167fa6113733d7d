import { Metadata, status } from '@grpc/grpc-js';
import type {
  handleServerStreamingCall,
  handleUnaryCall,
  sendUnaryData,
  ServerUnaryCall,
  ServerWritableStream,
  UntypedHandleCall,
} from '@grpc/grpc-js';
import { AppError, isAppError } from '@isams-sync/errors';
import type { Logger } from '@isams-sync/logger';
import { REQUEST_ID_KEY } from './call-metadata';
import { TENANT_REQUIRED, openCallContext, readRequestId } from './call-context';
import type { CallContext, TenantFreeCallContext } from './call-context';
import { toGrpcStatus } from './error-status';
import { withContext } from '@isams-sync/telemetry';
import { startServerSpan } from './grpc-tracing';
import { verifiedCallerOf } from './service-access';
import { IDENTITY_ERRORS } from './service-identity';

/** Options of {@link unary} and {@link serverStreaming}. */
export interface MethodOptions {
  /**
   * The method does not act for one school (platform-operator calls such as listing tenants), so
   * `x-tenant-id` is optional; when sent it is still validated.
   */
  tenantFree?: boolean;
  /** Logger to use instead of the one {@link createGrpcServer} binds. */
  logger?: Logger;
}

/** Options of a tenant-free method. */
export type TenantFreeMethodOptions = MethodOptions & { tenantFree: true };

/** Sends one message of a server stream, resolving when grpc-js accepted it (respects backpressure). */
export type StreamSend<Res> = (message: Res) => Promise<void>;

const BIND_LOGGER = Symbol.for('@isams-sync/grpc.bindLogger');
const TENANT_FREE = Symbol.for('@isams-sync/grpc.tenantFree');

/** A wrapped handler: a grpc-js handler that {@link createGrpcServer} can give its logger to. */
export type WrappedHandler<H extends UntypedHandleCall = UntypedHandleCall> = H & {
  readonly [BIND_LOGGER]: (logger: Logger) => H;
  readonly [TENANT_FREE]: boolean;
};

/** True when `fn` is a wrapped handler of a tenant-free method (the server's access check needs it). */
export function isTenantFreeHandler(fn: unknown): boolean {
  return isWrappedHandler(fn) && fn[TENANT_FREE];
}

/** True when `fn` was made by {@link unary} or {@link serverStreaming}. */
export function isWrappedHandler(fn: unknown): fn is WrappedHandler {
  return typeof fn === 'function' && BIND_LOGGER in fn;
}

/** The handler with `logger` bound, or the handler itself when it is not a wrapped one. */
export function bindHandlerLogger<H>(fn: H, logger: Logger): H {
  return isWrappedHandler(fn) ? (fn[BIND_LOGGER](logger) as H) : fn;
}

function missingLogger(): never {
  throw new Error('gRPC handler has no logger: register it through createGrpcServer or pass options.logger');
}

/** Logs a failed call: client errors at info, server faults at error with the cause under `err`. */
function logFailure(logger: Logger, err: unknown, code: number): void {
  if (code === status.INTERNAL || code === status.UNKNOWN || !isAppError(err)) {
    logger.error({ err, grpcCode: code }, 'gRPC call failed');
  } else if (code === status.UNAVAILABLE || code === status.DEADLINE_EXCEEDED) {
    logger.warn({ errCode: err.code, grpcCode: code }, 'gRPC call failed');
  } else {
    logger.info({ errCode: err.code, grpcCode: code }, 'gRPC call rejected');
  }
}

type Surface = (ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>) & {
  sendMetadata(md: Metadata): void;
};

/** The request id as trailing metadata (never as headers: a response with headers can't be retried). */
function requestIdTrailer(requestId: string, base?: Metadata): Metadata {
  const md = base ?? new Metadata();
  md.set(REQUEST_ID_KEY, requestId);
  return md;
}

/**
 * Shared prologue: the caller and school verified by the server's access interceptor (never a bare
 * header), then the context. Returns undefined after reporting a failure.
 */
function begin(
  call: Surface,
  logger: Logger,
  tenantFree: boolean,
  fail: (err: unknown, logger: Logger, requestId: string) => void,
): ReturnType<typeof openCallContext> | undefined {
  const requestId = readRequestId(call.metadata);
  const caller = verifiedCallerOf(call.metadata);
  const refuse = (err: AppError) => {
    fail(err, logger.child({ requestId, method: call.getPath() }), requestId);
    return undefined;
  };
  if (caller === undefined)
    return refuse(
      new AppError({
        code: IDENTITY_ERRORS.missing,
        kind: 'unauthenticated',
        message: 'A verified service identity is required',
      }),
    );
  if (caller.tenantId === undefined && !tenantFree)
    return refuse(
      new AppError({
        code: TENANT_REQUIRED,
        kind: 'invalid_argument',
        message: 'This method acts for one school: the token names none',
      }),
    );
  return openCallContext(call, logger, caller.tenantId, requestId, caller.service);
}

/**
 * Wraps a promise-returning unary handler: builds the {@link CallContext} (tenant required unless
 * `tenantFree`), and turns a thrown error into a gRPC status (see `toGrpcStatus`).
 *
 * @example
 * ```ts
 * const implementation: rosterV1.RosterServiceHandlers = {
 *   GetPerson: unary(async (req, ctx) => repo.getPerson(ctx.tenantId, req.personId, ctx.signal)),
 * };
 * ```
 */
export function unary<Req, Res>(
  handler: (request: Req, ctx: CallContext) => Promise<Res> | Res,
  options?: MethodOptions & { tenantFree?: false },
): WrappedHandler<handleUnaryCall<Req, Res>>;
export function unary<Req, Res>(
  handler: (request: Req, ctx: TenantFreeCallContext) => Promise<Res> | Res,
  options: TenantFreeMethodOptions,
): WrappedHandler<handleUnaryCall<Req, Res>>;
export function unary<Req, Res>(
  handler: (request: Req, ctx: CallContext) => Promise<Res> | Res,
  options: MethodOptions = {},
): WrappedHandler<handleUnaryCall<Req, Res>> {
  const make = (logger: Logger | undefined): handleUnaryCall<Req, Res> =>
    function handleUnary(call: ServerUnaryCall<Req, Res>, reply: sendUnaryData<Res>): void {
      const base = logger ?? missingLogger();
      // The call's SERVER span, a child of the caller's trace context (metadata); ended with the status.
      const traced = startServerSpan(call.getPath(), call.metadata);
      const callback: sendUnaryData<Res> = (err, ...rest) => {
        traced.end(err === null ? status.OK : (err.code ?? status.UNKNOWN));
        reply(err, ...rest);
      };
      const fail = (err: unknown, log: Logger, requestId: string) => {
        const st = toGrpcStatus(err);
        logFailure(log, err, st.code);
        callback({ ...st, metadata: requestIdTrailer(requestId, st.metadata) });
      };
      withContext(traced.context, () => {
        const opened = begin(call as Surface, base, options.tenantFree === true, fail);
        if (opened === undefined) return;
        traced.tenant(opened.context.tenantId);
        Promise.resolve()
          .then(() => handler(call.request, opened.context as CallContext))
          .then(
            (response) => callback(null, response, requestIdTrailer(opened.context.requestId)),
            (err: unknown) => fail(err, opened.context.logger, opened.context.requestId),
          )
          .finally(() => opened.close());
      });
    };
  return Object.assign(make(options.logger), {
    [BIND_LOGGER]: (logger: Logger) => make(options.logger ?? logger),
    [TENANT_FREE]: options.tenantFree === true,
  });
}

/**
 * Wraps a server-streaming handler: the handler sends messages with `send` (awaiting backpressure)
 * and returns when done; the stream then ends OK. A thrown error ends it with the mapped status.
 * Stop sending when `ctx.signal` aborts (client gone).
 */
export function serverStreaming<Req, Res>(
  handler: (request: Req, ctx: CallContext, send: StreamSend<Res>) => Promise<void>,
  options?: MethodOptions & { tenantFree?: false },
): WrappedHandler<handleServerStreamingCall<Req, Res>>;
export function serverStreaming<Req, Res>(
  handler: (request: Req, ctx: TenantFreeCallContext, send: StreamSend<Res>) => Promise<void>,
  options: TenantFreeMethodOptions,
): WrappedHandler<handleServerStreamingCall<Req, Res>>;
export function serverStreaming<Req, Res>(
  handler: (request: Req, ctx: CallContext, send: StreamSend<Res>) => Promise<void>,
  options: MethodOptions = {},
): WrappedHandler<handleServerStreamingCall<Req, Res>> {
  const make = (logger: Logger | undefined): handleServerStreamingCall<Req, Res> =>
    function handleStream(call: ServerWritableStream<Req, Res>): void {
      const base = logger ?? missingLogger();
      const traced = startServerSpan(call.getPath(), call.metadata);
      const fail = (err: unknown, log: Logger, requestId: string) => {
        const st = toGrpcStatus(err);
        logFailure(log, err, st.code);
        traced.end(st.code);
        call.emit('error', { ...st, metadata: requestIdTrailer(requestId, st.metadata) });
      };
      withContext(traced.context, () => {
        const opened = begin(call as Surface, base, options.tenantFree === true, fail);
        if (opened === undefined) return;
        traced.tenant(opened.context.tenantId);
        const send: StreamSend<Res> = (message) =>
          new Promise<void>((resolve, reject) => {
            if (opened.context.signal.aborted) {
              reject(opened.context.signal.reason);
              return;
            }
            call.write(message, (err?: Error | null) => (err ? reject(err) : resolve()));
          });
        Promise.resolve()
          .then(() => handler(call.request, opened.context as CallContext, send))
          .then(
            () => {
              traced.end(status.OK);
              call.end(requestIdTrailer(opened.context.requestId));
            },
            (err: unknown) => {
              if (!call.cancelled) fail(err, opened.context.logger, opened.context.requestId);
              else traced.end(status.CANCELLED);
            },
          )
          .finally(() => opened.close());
      });
    };
  return Object.assign(make(options.logger), {
    [BIND_LOGGER]: (logger: Logger) => make(options.logger ?? logger),
    [TENANT_FREE]: options.tenantFree === true,
  });
}
