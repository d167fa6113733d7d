import type { z } from 'zod';
import { ConfigError } from './config-error';
import type { ConfigProblem } from './config-error';
import { isSecretSchema } from './env-fields';

// Names whose values must never appear in an error message.
const SECRET_NAME = /KEY|SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL|PRIVATE/i;
// Names that may hold a URI with `user:password@`: echoed with the credentials removed.
const URI_NAME = /URI|URL|DSN|CONNECTION/i;
const URL_CREDENTIALS = /(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi;
const MAX_ECHO = 120;

function describeValue(name: string, value: string, secret: boolean): string {
  if (secret || SECRET_NAME.test(name)) return '';
  let shown = URI_NAME.test(name) ? value.replace(URL_CREDENTIALS, '$1***@') : value;
  if (shown.length > MAX_ECHO) shown = `${shown.slice(0, MAX_ECHO)}…`;
  return `, got ${JSON.stringify(shown)}`;
}

function withoutBlanks(env: Record<string, string | undefined>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(env)) {
    out[name] = value === undefined || value.trim() === '' ? undefined : value;
  }
  return out;
}

/**
 * Validates the environment against a zod object schema once, at start-up, and returns the typed
 * config. Empty or blank variables count as missing. On failure throws {@link ConfigError} listing
 * every bad or missing variable (`KAFKA_BROKERS: required`, `GRPC_PORT: expected an integer
 * 1–65535, got "abc"`); values of secret-looking variables (`*KEY*`, `*SECRET*`, `*PASSWORD*`,
 * `*TOKEN*`, or built with `env.secret()`) are never echoed, and URIs are echoed without credentials.
 *
 * @example
 * ```ts
 * export const configSchema = z.object({ ...commonServiceConfig, KAFKA_BROKERS: env.csv(), GRPC_PORT: env.port().default(50051) });
 * export type Config = z.infer<typeof configSchema>;
 * export const loadServiceConfig = (e = process.env): Config => loadConfig(configSchema, e);
 * ```
 */
export function loadConfig<S extends z.ZodObject>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<S> {
  const input = withoutBlanks(env);
  const result = schema.safeParse(input);
  if (result.success) return result.data;

  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  for (const issue of result.error.issues) {
    const variable = issue.path.length === 0 ? '(config)' : issue.path.map(String).join('.');
    if (seen.has(variable)) continue;
    seen.add(variable);
    const top = issue.path[0];
    const raw = typeof top === 'string' ? input[top] : undefined;
    if (raw === undefined && issue.path.length === 1) {
      problems.push({ variable, reason: 'required' });
      continue;
    }
    const fieldSchema =
      typeof top === 'string' ? (schema.shape as Record<string, z.ZodType>)[top] : undefined;
    const secret = fieldSchema !== undefined && isSecretSchema(fieldSchema);
    const echo = raw !== undefined && issue.path.length === 1 ? describeValue(variable, raw, secret) : '';
    problems.push({ variable, reason: `${issue.message}${echo}` });
  }
  throw new ConfigError(problems);
}
