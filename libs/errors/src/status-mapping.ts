import { isAppError } from './app-error';
import type { ErrorKind } from './error-kind';

/**
 * Numeric gRPC status codes (identical to `@grpc/grpc-js`'s `status` enum), defined here so this
 * library carries no transport dependency.
 */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

/** A numeric gRPC status code. */
export type GrpcStatusCode = (typeof GrpcStatus)[keyof typeof GrpcStatus];

const GRPC_BY_KIND: Record<ErrorKind, GrpcStatusCode> = {
  invalid_argument: GrpcStatus.INVALID_ARGUMENT,
  not_found: GrpcStatus.NOT_FOUND,
  already_exists: GrpcStatus.ALREADY_EXISTS,
  failed_precondition: GrpcStatus.FAILED_PRECONDITION,
  permission_denied: GrpcStatus.PERMISSION_DENIED,
  unauthenticated: GrpcStatus.UNAUTHENTICATED,
  resource_exhausted: GrpcStatus.RESOURCE_EXHAUSTED,
  unavailable: GrpcStatus.UNAVAILABLE,
  deadline_exceeded: GrpcStatus.DEADLINE_EXCEEDED,
  aborted: GrpcStatus.ABORTED,
  cancelled: GrpcStatus.CANCELLED,
  internal: GrpcStatus.INTERNAL,
};

// The HTTP mapping of google.rpc.Code, except failed_precondition → 409: our preconditions are
// state conflicts (e.g. "sync run is not held"), which clients expect as 409 rather than 400.
const HTTP_BY_KIND: Record<ErrorKind, number> = {
  invalid_argument: 400,
  not_found: 404,
  already_exists: 409,
  failed_precondition: 409,
  permission_denied: 403,
  unauthenticated: 401,
  resource_exhausted: 429,
  unavailable: 503,
  deadline_exceeded: 504,
  aborted: 409,
  cancelled: 499,
  internal: 500,
};

/** gRPC status → kind: {@link GRPC_BY_KIND} read backwards, and `OUT_OF_RANGE` as `invalid_argument`. */
const KIND_BY_GRPC: Record<number, ErrorKind> = {
  ...Object.fromEntries(
    (Object.entries(GRPC_BY_KIND) as [ErrorKind, GrpcStatusCode][]).map(([kind, code]) => [code, kind]),
  ),
  [GrpcStatus.OUT_OF_RANGE]: 'invalid_argument',
};

/**
 * HTTP status for any thrown value: the {@link AppError}'s kind decides; anything else is 500.
 * `failed_precondition` and `aborted` map to 409, `cancelled` to 499 (client closed request).
 */
export function httpStatusFor(err: unknown): number {
  return isAppError(err) ? HTTP_BY_KIND[err.kind] : 500;
}

/** Numeric gRPC status for any thrown value: the {@link AppError}'s kind decides; anything else is `INTERNAL` (13). */
export function grpcStatusFor(err: unknown): GrpcStatusCode {
  return isAppError(err) ? GRPC_BY_KIND[err.kind] : GrpcStatus.INTERNAL;
}

/**
 * The {@link ErrorKind} for a numeric gRPC status received from a remote call (for gRPC client
 * wrappers that rethrow as {@link AppError}). `OK`, `UNKNOWN`, `UNIMPLEMENTED`, `DATA_LOSS`,
 * `INTERNAL` and unrecognised numbers give `internal`.
 */
export function kindForGrpcStatus(code: number): ErrorKind {
  return KIND_BY_GRPC[code] ?? 'internal';
}
