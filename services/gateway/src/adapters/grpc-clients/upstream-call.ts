import type { Client } from '@grpc/grpc-js';
import { GrpcCallError, IDENTITY_ERRORS, callMetadata, callUnary, createGrpcClient } from '@isams-sync/grpc';
import type { GrpcClientConstructor, ServiceKeyring, UnaryMethod } from '@isams-sync/grpc';
import { AppError } from '@isams-sync/errors';
import { GatewayErrors, fromDatabaseError } from '../../domain/gateway-errors';
import type { CallContext } from '../../domain/principal';
import { refusedFieldIssues, upstreamIssues } from '../../domain/validation-issues';

const IDENTITY_CODES: ReadonlySet<string> = new Set(Object.values(IDENTITY_ERRORS));

/** Maps a failed upstream call to the `AppError` the HTTP edge sends. */
export function upstreamError(err: unknown, upstream: string): unknown {
  if (!(err instanceof GrpcCallError)) return err;
  // The upstream refused *our* service identity (keys, allow-list): a deployment fault, sent as an
  // internal error — never as 401/403, which would tell the admin their own credential is wrong.
  if (IDENTITY_CODES.has(err.errorCode))
    return GatewayErrors.GATEWAY_UPSTREAM_IDENTITY_REFUSED(
      { upstream, upstreamCode: err.errorCode },
      { cause: err },
    );
  // Transport failures carry no server code: say which service, not the grpc-js text.
  if (err.errorCode.startsWith('GRPC_') && err.kind === 'unavailable')
    return GatewayErrors.GATEWAY_UPSTREAM_UNAVAILABLE({ upstream }, { cause: err });
  if (err.errorCode.startsWith('GRPC_') && err.kind === 'deadline_exceeded')
    return GatewayErrors.GATEWAY_UPSTREAM_TIMEOUT({ upstream }, { cause: err });
  // The fields an upstream refused travel in the API's one details shape (`details.issues`).
  const issues =
    err.kind === 'invalid_argument'
      ? (upstreamIssues(err.details) ?? refusedFieldIssues(err.errorCode, err.grpcMessage))
      : undefined;
  if (issues !== undefined)
    return new AppError({
      code: err.errorCode,
      kind: err.kind,
      message: err.grpcMessage,
      details: { issues },
      cause: err,
    });
  const appError = err.toAppError();
  return fromDatabaseError(appError, upstream) ?? appError;
}

/**
 * One unary call for the caller's school: tenant, request id and actor travel as metadata, the
 * HTTP client's disconnect cancels it, and a failure is rethrown as the upstream's `AppError`
 * (its stable code and kind decide the HTTP status at the edge).
 */
export async function upstreamCall<Req, Res>(
  upstream: string,
  method: UnaryMethod<Req, Res>,
  request: Req,
  ctx: CallContext,
  deadlineMs?: number,
): Promise<Res> {
  try {
    return await callUnary(
      method,
      request,
      callMetadata({ tenantId: ctx.tenantId, requestId: ctx.requestId, actor: ctx.actor }),
      { ...(deadlineMs === undefined ? {} : { deadlineMs }), ...(ctx.signal ? { signal: ctx.signal } : {}) },
    );
  } catch (err) {
    throw upstreamError(err, upstream);
  }
}

/** What each upstream gateway (connector, roster, bookings) is created with. */
export interface UpstreamOptions {
  address: string;
  deadlineMs: number;
  /** The gateway's service-identity keys. */
  identity: ServiceKeyring;
  protosDir?: string;
}

/**
 * The generated client of the `upstream` service, calling with the gateway's identity (that
 * service is the token's audience); only `idempotentMethods` are retried.
 */
export function upstreamClient<C extends Client>(
  service: GrpcClientConstructor<C>,
  upstream: string,
  options: UpstreamOptions,
  idempotentMethods: string[] = [],
): C {
  return createGrpcClient(service, options.address, {
    identity: { keyring: options.identity, audience: upstream },
    deadlineMs: options.deadlineMs,
    idempotentMethods,
  });
}

/** A call bound to one generated client: request and response types follow the method passed. */
export type UpstreamCaller = <Req, Res>(
  method: UnaryMethod<Req, Res>,
  request: Req,
  ctx: CallContext,
  deadlineMs?: number,
) => Promise<Res>;

/** {@link upstreamCall} for the methods of `client` (e.g. `call(client.getRun, { syncRunId }, ctx)`). */
export function upstreamCaller(upstream: string, client: Client): UpstreamCaller {
  return (method, request, ctx, deadlineMs) =>
    upstreamCall(upstream, method.bind(client), request, ctx, deadlineMs);
}

/** A proto int64 (string with `longs: String`) or number as a JS number. */
export function toNumber(value: string | number | null | undefined): number {
  if (value === null || value === undefined || value === '') return 0;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : 0;
}

/** Proto3 empty string → null. */
export function orNull(value: string | null | undefined): string | null {
  return value === undefined || value === null || value === '' ? null : value;
}

/** The named strings of a proto message with {@link orNull} applied (proto3 has no absent string: ''). */
export function orNulls<M extends Partial<Record<K, string | null>>, K extends string>(
  message: M,
  ...keys: K[]
): Record<K, string | null> {
  return Object.fromEntries(keys.map((k) => [k, orNull(message[k])])) as Record<K, string | null>;
}
