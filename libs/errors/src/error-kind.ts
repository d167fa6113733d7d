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

const TRANSIENT: ReadonlySet<ErrorKind> = new Set<ErrorKind>([
  'unavailable',
  'deadline_exceeded',
  'resource_exhausted',
  'aborted',
]);
const PERMANENT: ReadonlySet<ErrorKind> = new Set<ErrorKind>([
  'invalid_argument',
  'not_found',
  'already_exists',
  'failed_precondition',
  'permission_denied',
  'unauthenticated',
]);

/**
 * True for kinds of failure that pass by themselves — a dependency down, slow, busy or a conflict
 * that a retry resolves (`unavailable`, `deadline_exceeded`, `resource_exhausted`, `aborted`):
 * retrying the same operation later can succeed (e.g. `MONGO_UNAVAILABLE`, `KAFKA_*`).
 */
export function isTransientKind(kind: ErrorKind): boolean {
  return TRANSIENT.has(kind);
}

/**
 * True for kinds of failure that no retry fixes — the input or the state must change first
 * (`invalid_argument`, `not_found`, `already_exists`, `failed_precondition`, `permission_denied`,
 * `unauthenticated`). `internal` and `cancelled` are neither transient nor permanent.
 */
export function isPermanentKind(kind: ErrorKind): boolean {
  return PERMANENT.has(kind);
}
