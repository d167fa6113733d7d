import type { ErrorKind } from './error-kind';

/** Constructor options of {@link AppError}. */
export interface AppErrorOptions {
  /** Stable, machine-readable code in SCREAMING_SNAKE_CASE, e.g. `ROSTER_NOT_FOUND`. */
  code: string;
  /** Category that decides the HTTP/gRPC status at the edge. */
  kind: ErrorKind;
  /** Human-readable message. Shown to API clients unless `kind` is `internal`, so keep it free of secrets and personal data. */
  message: string;
  /** Structured, client-safe context (ids, field names, limits). */
  details?: Record<string, unknown>;
  /** The underlying error; kept for logs, never serialised to clients. */
  cause?: unknown;
}

/** The public JSON shape of an {@link AppError} (see {@link AppError.toJSON}). */
export interface AppErrorJson {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

// A global symbol brand keeps isAppError() working if two copies of this package get bundled.
const BRAND = Symbol.for('@isams-sync/errors.AppError');

/**
 * The application error every package throws: a stable `code`, a `kind` that maps to transport
 * status codes at the edge, optional client-safe `details`, and the standard `cause`.
 *
 * @example
 * ```ts
 * throw new AppError({ code: 'ROSTER_NOT_FOUND', kind: 'not_found', message: `Roster ${id} not found`, details: { id } });
 * ```
 */
export class AppError extends Error {
  /** Stable, machine-readable code, e.g. `ROSTER_NOT_FOUND`. */
  readonly code: string;
  /** Category that decides the HTTP/gRPC status. */
  readonly kind: ErrorKind;
  /** Structured, client-safe context. */
  readonly details?: Record<string, unknown>;

  constructor(options: AppErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
    this.kind = options.kind;
    if (options.details !== undefined) this.details = options.details;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** Client-safe JSON: `{ code, message, details }`. The cause and the stack are never included. */
  toJSON(): AppErrorJson {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/** True when `e` is an {@link AppError} (including subclasses and catalogue errors). */
export function isAppError(e: unknown): e is AppError {
  return (
    e instanceof AppError ||
    (typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true)
  );
}
