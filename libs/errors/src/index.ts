/**
 * `@isams-sync/errors` — the application error type, typed error catalogues and the mapping of
 * errors to HTTP/gRPC status codes and client-safe bodies.
 * @packageDocumentation
 */
export { AppError, isAppError } from './app-error';
export type { AppErrorOptions, AppErrorJson } from './app-error';
export { ERROR_KINDS, isPermanentKind, isTransientKind } from './error-kind';
export type { ErrorKind } from './error-kind';
export { GrpcStatus, httpStatusFor, grpcStatusFor, kindForGrpcStatus } from './status-mapping';
export type { GrpcStatusCode } from './status-mapping';
export { defineErrors } from './define-errors';
export type {
  ErrorSpec,
  DetailsOf,
  ErrorFactory,
  ErrorFactoryOptions,
  ErrorCatalogue,
  CodedAppError,
} from './define-errors';
export { toPublicError } from './public-error';
export type { PublicError } from './public-error';
