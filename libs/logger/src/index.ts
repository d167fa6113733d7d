/**
 * `@isams-sync/logger` — the one pino root per process, with redaction of the iSAMS key, other
 * secrets and pupils'/staff's personal data.
 * @packageDocumentation
 */
export { createLogger, traceLogFields } from './create-logger';
export type { CreateLoggerOptions } from './create-logger';
export { REDACTED, REDACTED_PATHS, SECRET_FIELDS, PERSONAL_FIELDS, isSensitiveField } from './redaction';
export { scrubSecrets } from './scrub';

/** The pino logger type; create children with `logger.child({ tenantId, syncRunId, module })`. */
export type { Logger, LevelWithSilent, DestinationStream } from 'pino';

/**
 * The minimal logging surface a library needs from a caller-supplied logger; a pino {@link Logger}
 * satisfies it, and so does a small test double.
 */
export interface LoggerLike {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
