import { AppError, isAppError } from './app-error';
import type { ErrorKind } from './error-kind';

/** One catalogue entry: its kind and a fixed message or a message built from the details. */
export interface ErrorSpec {
  kind: ErrorKind;
  // `never` as the parameter accepts a message function of any details type.
  message: string | ((details: never) => string);
}

/** Details type of a catalogue entry: the message function's parameter, else optional free-form details. */
export type DetailsOf<S extends ErrorSpec> = S['message'] extends (details: infer P) => string
  ? P
  : Record<string, unknown> | undefined;

/** Second argument of a catalogue factory. */
export interface ErrorFactoryOptions {
  /** The underlying error, kept for logs. */
  cause?: unknown;
}

/** An {@link AppError} whose `code` is known at compile time. */
export type CodedAppError<K extends string> = AppError & { readonly code: K };

/** A function that builds the catalogue entry's {@link AppError}; also carries its code and a type guard. */
export type ErrorFactory<K extends string, P> = (undefined extends P
  ? (details?: P, options?: ErrorFactoryOptions) => CodedAppError<K>
  : (details: P, options?: ErrorFactoryOptions) => CodedAppError<K>) & {
  /** The stable code (the catalogue key). */
  readonly code: K;
  /** The entry's kind. */
  readonly kind: ErrorKind;
  /** True when `err` is an {@link AppError} with this entry's code. */
  is(err: unknown): err is CodedAppError<K>;
};

/** The object returned by {@link defineErrors}: one factory per catalogue key. */
export type ErrorCatalogue<C extends Record<string, ErrorSpec>> = {
  readonly [K in keyof C & string]: ErrorFactory<K, DetailsOf<C[K]>>;
};

/**
 * Turns a catalogue of `{ kind, message }` entries into typed error factories. Each factory returns
 * an {@link AppError} whose `code` is the key and whose `details` are the parameters given.
 *
 * @example
 * ```ts
 * export const Errors = defineErrors({
 *   ROSTER_NOT_FOUND: { kind: 'not_found', message: (d: { id: string }) => `Roster ${d.id} not found` },
 *   ROSTER_LOCKED: { kind: 'failed_precondition', message: 'Roster is locked' },
 * });
 * throw Errors.ROSTER_NOT_FOUND({ id }, { cause: err });
 * if (Errors.ROSTER_LOCKED.is(e)) { ... }
 * ```
 */
export function defineErrors<const C extends Record<string, ErrorSpec>>(catalogue: C): ErrorCatalogue<C> {
  const factories: Record<string, unknown> = {};
  for (const [code, spec] of Object.entries(catalogue)) {
    const build = (details?: Record<string, unknown>, options?: ErrorFactoryOptions): AppError =>
      new AppError({
        code,
        kind: spec.kind,
        message:
          typeof spec.message === 'function'
            ? (spec.message as (d: Record<string, unknown> | undefined) => string)(details)
            : spec.message,
        details,
        cause: options?.cause,
      });
    factories[code] = Object.assign(build, {
      code,
      kind: spec.kind,
      is: (err: unknown) => isAppError(err) && err.code === code,
    });
  }
  return Object.freeze(factories) as ErrorCatalogue<C>;
}
