import { credentials, InterceptingCall, Metadata, status } from '@grpc/grpc-js';
import type {
  CallOptions,
  Interceptor,
  ChannelCredentials,
  Client,
  ClientOptions,
  ClientUnaryCall,
  requestCallback,
  ServiceDefinition,
  ServiceError,
} from '@grpc/grpc-js';
import { AppError, kindForGrpcStatus } from '@isams-sync/errors';
import type { ErrorKind } from '@isams-sync/errors';
import type { Logger } from '@isams-sync/logger';
import { ERROR_CODE_KEY, TENANT_ID_KEY, metadataString } from './call-metadata';
import { readErrorDetails } from './error-status';
import { tracingClientInterceptor } from './grpc-tracing';
import { ANY_TENANT, AUTHORIZATION_KEY, mintServiceToken } from './service-identity';
import type { ServiceKeyring } from './service-identity';

/** A generated client constructor (`pkg.isams_sync.roster.v1.RosterService`). */
export type GrpcClientConstructor<T extends Client> = (new (
  address: string,
  channelCredentials: ChannelCredentials,
  options?: ClientOptions,
) => T) & { service: ServiceDefinition };

/** The identity a client calls with. */
export interface ClientIdentity {
  /** The calling service's keys; it must hold a key for `audience`. */
  keyring: ServiceKeyring;
  /** The called service (`connector`, `roster`, `bookings`). */
  audience: string;
}

/** Options of {@link createGrpcClient}. */
export interface GrpcClientOptions {
  /**
   * Who is calling: every call carries a fresh service token for `audience`, naming the method and
   * the school of the call's `x-tenant-id` (`*` when it has none).
   */
  identity: ClientIdentity;
  /** Deadline applied to every call that sets none; default 5000 ms. */
  deadlineMs?: number;
  /**
   * Methods (proto names, e.g. `GetPerson`) that are safe to repeat. They are retried by grpc-js on
   * `UNAVAILABLE` only (the request surely did not run, or running it twice is harmless).
   */
  idempotentMethods?: string[];
  /** Attempts for idempotent methods including the first; default 3 (grpc-js caps it at 5). */
  maxAttempts?: number;
  /** Queue calls while the channel connects instead of failing fast with UNAVAILABLE; default false. */
  waitForReady?: boolean;
  /** Logs channel creation (address, retry set). */
  logger?: Logger;
  /** Extra channel options. */
  channelOptions?: ClientOptions;
}

const DEFAULT_DEADLINE_MS = 5_000;

/**
 * Message-size and keepalive limits of every client, matching {@link GRPC_SERVER_LIMITS}: requests up
 * to 4 MiB, responses up to 16 MiB; while calls are open the client pings every 30 s and gives the
 * connection up when a ping is not answered within 10 s (grpc-js servers do not police ping rates).
 */
export const GRPC_CLIENT_LIMITS: Readonly<ClientOptions> = Object.freeze({
  'grpc.max_send_message_length': 4 * 1024 * 1024,
  'grpc.max_receive_message_length': 16 * 1024 * 1024,
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.keepalive_permit_without_calls': 0,
});

/** A client interceptor that adds a service token for each call (see {@link ClientIdentity}). */
export function serviceTokenInterceptor(identity: ClientIdentity): Interceptor {
  if (!identity.keyring.signing.has(identity.audience))
    throw new Error(`Service "${identity.keyring.self}" holds no key to call "${identity.audience}"`);
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        const tenant = metadataString(metadata, TENANT_ID_KEY);
        const token = mintServiceToken(identity.keyring, {
          audience: identity.audience,
          method: options.method_definition.path,
          tenant: tenant === undefined || tenant === '' ? ANY_TENANT : tenant,
        });
        metadata.set(AUTHORIZATION_KEY, `Bearer ${token}`);
        next(metadata, listener);
      },
    });
}
const DEFAULT_MAX_ATTEMPTS = 3;

// Always nine fraction digits: grpc-js 1.14 reads the fraction of "0.3s" as 3 nanoseconds.
function duration(ms: number): string {
  const whole = Math.floor(ms / 1000);
  const nanos = Math.round((ms - whole * 1000) * 1_000_000);
  return `${whole}.${String(nanos).padStart(9, '0')}s`;
}

/**
 * The grpc-js service config for a client: a default timeout on every method, and a `retryPolicy`
 * (UNAVAILABLE only, exponential backoff 100 ms → 1 s) on the idempotent ones.
 */
export function buildServiceConfig(
  service: ServiceDefinition,
  options: Omit<GrpcClientOptions, 'identity'> = {},
): object {
  const methods = Object.entries(service);
  const serviceName = methods[0]?.[1].path.split('/')[1];
  if (serviceName === undefined) throw new Error('Service definition has no methods');
  const timeout = duration(options.deadlineMs ?? DEFAULT_DEADLINE_MS);
  const waitForReady = options.waitForReady ?? false;
  const idempotent = (options.idempotentMethods ?? []).map((wanted) => {
    const match = methods.find(([key, def]) => key === wanted || def.originalName === wanted);
    if (match === undefined)
      throw new Error(`Unknown method "${wanted}" in idempotentMethods of ${serviceName}`);
    return match[1].path.split('/')[2]!;
  });
  const methodConfig: object[] = [];
  if (idempotent.length > 0) {
    methodConfig.push({
      name: [...new Set(idempotent)].map((method) => ({ service: serviceName, method })),
      timeout,
      waitForReady,
      retryPolicy: {
        maxAttempts: Math.min(5, Math.max(2, options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS)),
        initialBackoff: duration(100),
        maxBackoff: duration(1000),
        backoffMultiplier: 2,
        retryableStatusCodes: ['UNAVAILABLE'],
      },
    });
  }
  methodConfig.push({ name: [{ service: serviceName }], timeout, waitForReady });
  return { methodConfig };
}

/**
 * Creates a client whose calls carry a service token ({@link ClientIdentity}) and a default
 * deadline, whose idempotent methods retry on UNAVAILABLE (both through the grpc-js service config),
 * with {@link GRPC_CLIENT_LIMITS}. Every call is a CLIENT span whose W3C trace context travels in the
 * `traceparent`/`tracestate` metadata (nothing with tracing off; docs/observability.md). Plaintext
 * HTTP/2: see docs/security.md.
 *
 * @example
 * ```ts
 * const roster = createGrpcClient(pkg.isams_sync.roster.v1.RosterService, config.ROSTER_GRPC_ADDRESS, {
 *   identity: { keyring, audience: 'roster' }, deadlineMs: 3000, idempotentMethods: ['GetEntity', 'ListEntities'], logger,
 * });
 * ```
 */
export function createGrpcClient<T extends Client>(
  ClientCtor: GrpcClientConstructor<T>,
  address: string,
  options: GrpcClientOptions,
): T {
  const serviceConfig = buildServiceConfig(ClientCtor.service, options);
  const client = new ClientCtor(address, credentials.createInsecure(), {
    ...GRPC_CLIENT_LIMITS,
    'grpc.enable_retries': 1,
    'grpc.service_config': JSON.stringify(serviceConfig),
    // Only our config applies, never one published in DNS.
    'grpc.service_config_disable_resolution': 1,
    ...options.channelOptions,
    interceptors: [
      // First, so its span covers the call and the token interceptor runs inside it.
      tracingClientInterceptor(),
      serviceTokenInterceptor(options.identity),
      ...(options.channelOptions?.interceptors ?? []),
    ],
  });
  options.logger?.debug(
    { address, audience: options.identity.audience, idempotentMethods: options.idempotentMethods ?? [] },
    'gRPC client created',
  );
  return client;
}

/** A failed gRPC call, with the server's stable error code and details when it sent them. */
export class GrpcCallError extends Error {
  /** The numeric gRPC status (`status.NOT_FOUND` = 5 …). */
  readonly code: number;
  /** The server's `x-error-code` (e.g. `ROSTER_ENTITY_NOT_FOUND`), else `GRPC_<STATUS>`. */
  readonly errorCode: string;
  /** The {@link ErrorKind} of the status, for mapping to HTTP. */
  readonly kind: ErrorKind;
  /** JSON details from `x-error-details-bin`. */
  readonly details?: Record<string, unknown>;
  /** The server's status message (client-safe by the server conventions). */
  readonly grpcMessage: string;
  /** Trailing metadata of the failed call. */
  readonly metadata?: Metadata;

  constructor(err: ServiceError, method?: string) {
    const statusName = status[err.code] ?? 'UNKNOWN';
    const serverCode = err.metadata?.get(ERROR_CODE_KEY)[0];
    const grpcMessage = err.details ?? '';
    super(
      method === undefined
        ? `${statusName}: ${grpcMessage}`
        : `${method} failed: ${statusName}: ${grpcMessage}`,
      {
        cause: err,
      },
    );
    this.name = 'GrpcCallError';
    this.code = err.code;
    this.errorCode = typeof serverCode === 'string' && serverCode !== '' ? serverCode : `GRPC_${statusName}`;
    this.kind = kindForGrpcStatus(err.code);
    this.grpcMessage = grpcMessage;
    const details = readErrorDetails(err.metadata);
    if (details !== undefined) this.details = details;
    if (err.metadata !== undefined) this.metadata = err.metadata;
  }

  /** The equivalent {@link AppError} (code, kind, message, details; this as cause) for HTTP mapping. */
  toAppError(): AppError {
    return new AppError({
      code: this.errorCode,
      kind: this.kind,
      message: this.grpcMessage,
      details: this.details,
      cause: this,
    });
  }
}

/** True when `err` is a grpc-js `ServiceError` (has a numeric `code` and `metadata`). */
export function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === 'number' && 'details' in err;
}

/** Per-call options of {@link callUnary} and {@link promisifyUnary}. */
export interface UnaryCallOptions {
  /** Deadline for this call in ms from now (overrides the client default). */
  deadlineMs?: number;
  /** Absolute deadline, e.g. the inbound `ctx.deadline` to propagate; the earlier of both wins. */
  deadline?: Date;
  /** Cancels the call when aborted, e.g. the inbound `ctx.signal`. */
  signal?: AbortSignal;
}

/**
 * A unary client method. Matching on the generated overload `(argument, callback)` lets TypeScript
 * infer request and response types from a bound client method.
 */
export type UnaryMethod<Req, Res> = (argument: Req, callback: requestCallback<Res>) => ClientUnaryCall;

type FullUnaryMethod<Req, Res> = (
  argument: Req,
  metadata: Metadata,
  options: CallOptions,
  callback: requestCallback<Res>,
) => ClientUnaryCall;

/**
 * Calls a unary method and returns a promise; a failure rejects with {@link GrpcCallError}.
 *
 * @example
 * ```ts
 * const person = await callUnary(roster.getPerson.bind(roster), { personId }, callMetadata(ctx), { deadline: ctx.deadline, signal: ctx.signal });
 * ```
 */
export function callUnary<Req, Res>(
  method: UnaryMethod<Req, Res>,
  request: Req,
  metadata?: Metadata,
  options: UnaryCallOptions = {},
): Promise<Res> {
  const callOptions: CallOptions = {};
  const deadlines = [
    options.deadlineMs === undefined ? Infinity : Date.now() + options.deadlineMs,
    options.deadline?.getTime() ?? Infinity,
  ];
  const deadline = Math.min(...deadlines);
  if (deadline !== Infinity) callOptions.deadline = deadline;
  const name = method.name.replace(/^bound /, '') || undefined;

  return new Promise<Res>((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new GrpcCallError(cancelledError(), name));
      return;
    }
    let onAbort: (() => void) | undefined;
    const call = (method as unknown as FullUnaryMethod<Req, Res>)(
      request,
      metadata ?? new Metadata(),
      callOptions,
      (err, response) => {
        if (onAbort !== undefined) options.signal?.removeEventListener('abort', onAbort);
        if (err) reject(isServiceError(err) ? new GrpcCallError(err, name) : err);
        else resolve(response as Res);
      },
    );
    if (options.signal !== undefined) {
      onAbort = () => call.cancel();
      options.signal.addEventListener('abort', onAbort, { once: true });
    }
  });
}

/**
 * Binds one unary method of a client into a promise-returning function.
 *
 * @example
 * ```ts
 * const getPerson = promisifyUnary(roster, 'getPerson');
 * const person = await getPerson({ personId }, callMetadata({ tenantId }));
 * ```
 */
export function promisifyUnary<C extends Client, K extends keyof C>(
  client: C,
  method: K,
): C[K] extends UnaryMethod<infer Req, infer Res>
  ? (request: Req, metadata?: Metadata, options?: UnaryCallOptions) => Promise<Res>
  : never {
  const fn = client[method];
  if (typeof fn !== 'function') throw new Error(`Client has no method ${String(method)}`);
  const bound = (fn as (...args: unknown[]) => unknown).bind(client) as UnaryMethod<unknown, unknown>;
  Object.defineProperty(bound, 'name', { value: String(method) });
  const wrapped = (request: unknown, metadata?: Metadata, options?: UnaryCallOptions) =>
    callUnary(bound, request, metadata, options);
  return wrapped as never;
}

function cancelledError(): ServiceError {
  return Object.assign(new Error('Cancelled before start'), {
    code: status.CANCELLED,
    details: 'Cancelled before start',
    metadata: new Metadata(),
  });
}
