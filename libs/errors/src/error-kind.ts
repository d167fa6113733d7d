/**
 * Every kind of {@link AppError}, in declaration order, and whether a retry can fix it:
 * `transient` failures pass by themselves, `permanent` ones need the input or the state to change
 * first, `neither` (`internal`, `cancelled`) is neither.
 */
const RETRY_CLASS_BY_KIND = {
  invalid_argument: 'permanent',
  not_found: 'permanent',
  already_exists: 'permanent',
  failed_precondition: 'permanent',
  permission_denied: 'permanent',
  unauthenticated: 'permanent',
  resource_exhausted: 'transient',
  unavailable: 'transient',
  deadline_exceeded: 'transient',
  aborted: 'transient',
  cancelled: 'neither',
  internal: 'neither',
} as const satisfies Record<string, 'transient' | 'permanent' | 'neither'>;

/**
 * The category of an {@link AppError}. It decides the HTTP and gRPC status the error maps to at the
 * edge; the names follow the canonical gRPC status codes so both mappings stay lossless.
 */
export type ErrorKind = keyof typeof RETRY_CLASS_BY_KIND;

/** Every {@link ErrorKind}, in declaration order (handy for exhaustive tests and schemas). */
export const ERROR_KINDS: readonly ErrorKind[] = Object.keys(RETRY_CLASS_BY_KIND) as ErrorKind[];

/**
 * True for kinds of failure that pass by themselves — a dependency down, slow, busy or a conflict
 * that a retry resolves (`unavailable`, `deadline_exceeded`, `resource_exhausted`, `aborted`):
 * retrying the same operation later can succeed (e.g. `MONGO_UNAVAILABLE`, `KAFKA_*`).
 */
export function isTransientKind(kind: ErrorKind): boolean {
  return RETRY_CLASS_BY_KIND[kind] === 'transient';
}

/**
 * True for kinds of failure that no retry fixes — the input or the state must change first
 * (`invalid_argument`, `not_found`, `already_exists`, `failed_precondition`, `permission_denied`,
 * `unauthenticated`). `internal` and `cancelled` are neither transient nor permanent.
 */
export function isPermanentKind(kind: ErrorKind): boolean {
  return RETRY_CLASS_BY_KIND[kind] === 'permanent';
}
