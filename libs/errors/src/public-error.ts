import { isAppError } from './app-error';
import type { AppErrorJson } from './app-error';

/** The error body safe to send to an API client. */
export type PublicError = AppErrorJson;

const INTERNAL: PublicError = Object.freeze({ code: 'INTERNAL', message: 'Internal error' });

/**
 * Converts any thrown value into a body safe for API clients. {@link AppError}s keep their code,
 * message and details, except those of kind `internal`; those and every non-AppError become
 * `{ code: 'INTERNAL', message: 'Internal error' }`, so no stack, cause or driver message leaks.
 */
export function toPublicError(err: unknown): PublicError {
  if (!isAppError(err) || err.kind === 'internal') return { ...INTERNAL };
  return err.toJSON();
}
