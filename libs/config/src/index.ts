/**
 * `@isams-sync/config` — validate a service's environment once at start-up with zod, with
 * string-parsing field helpers and an error that lists every bad variable without leaking secrets.
 * @packageDocumentation
 */
export { loadConfig } from './load-config';
export { ConfigError } from './config-error';
export type { ConfigProblem } from './config-error';
export { env, LOG_LEVELS, isSecretSchema } from './env-fields';
export type { IntOptions, PortOptions, UrlOptions, SecretOptions, LogLevel } from './env-fields';
export { commonServiceConfig } from './common-service-config';
export type { CommonServiceConfig } from './common-service-config';
