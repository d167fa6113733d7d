/**
 * The category of an {@link AppError}. It decides the HTTP and gRPC status the error maps to at the
 * edge; the names follow the canonical gRPC status codes so both mappings stay lossless.
 */
export type ErrorKind =
  | 'invalid_argument'
  | 'not_found'
  | 'already_exists'
  | 'failed_precondition'
  | 'permission_denied'
  | 'unauthenticated'
  | 'resource_exhausted'
  | 'unavailable'
  | 'deadline_exceeded'
  | 'aborted'
  | 'cancelled'
  | 'internal';

/** Every {@link ErrorKind}, in declaration order (handy for exhaustive tests and schemas). */
export const ERROR_KINDS: readonly ErrorKind[] = [
  'invalid_argument',
  'not_found',
  'already_exists',
  'failed_precondition',
  'permission_denied',
  'unauthenticated',
  'resource_exhausted',
  'unavailable',
  'deadline_exceeded',
  'aborted',
  'cancelled',
  'internal',
];
