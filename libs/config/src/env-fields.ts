import { z } from 'zod';

/** Options of {@link env.int}. */
export interface IntOptions {
  min?: number;
  max?: number;
}

/** Options of {@link env.port}. */
export interface PortOptions {
  /** Accept `0` (bind any free port), for ops and test servers. Default false. */
  allowZero?: boolean;
}

/** Options of {@link env.url}. */
export interface UrlOptions {
  /** Allowed schemes, with or without the colon (`['http', 'https']`). Default: any. */
  protocols?: readonly string[];
}

/** Options of {@link env.secret}. */
export interface SecretOptions {
  /** Minimum length after trimming. Default 1. */
  minLength?: number;
}

/** Pino's level names plus `silent`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

const secretSchemas = new WeakSet<z.ZodType>();

/**
 * True when the schema (or the schema it wraps through optional/default/pipe) was built by
 * {@link env.secret}; `loadConfig` then never echoes the value.
 */
export function isSecretSchema(schema: z.ZodType): boolean {
  let current: unknown = schema;
  for (let depth = 0; depth < 8 && current; depth++) {
    if (secretSchemas.has(current as z.ZodType)) return true;
    const def = (current as { _zod?: { def?: { innerType?: unknown; in?: unknown } } })._zod?.def;
    current = def?.innerType ?? def?.in;
  }
  return false;
}

function rangeText(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return ` ${min}–${max}`;
  if (min !== undefined) return ` ≥ ${min}`;
  if (max !== undefined) return ` ≤ ${max}`;
  return '';
}

function int(options: IntOptions = {}) {
  const { min, max } = options;
  const message = `expected an integer${rangeText(min, max)}`;
  return z.string().transform((raw, ctx) => {
    const text = raw.trim();
    const value = Number(text);
    if (!/^[-+]?\d+$/.test(text) || !Number.isSafeInteger(value)) {
      ctx.addIssue({ code: 'custom', message });
      return z.NEVER;
    }
    if ((min !== undefined && value < min) || (max !== undefined && value > max)) {
      ctx.addIssue({ code: 'custom', message });
      return z.NEVER;
    }
    return value;
  });
}

function port(options: PortOptions = {}) {
  return int({ min: options.allowZero ? 0 : 1, max: 65535 });
}

const TRUE = new Set(['true', '1', 'yes']);
const FALSE = new Set(['false', '0', 'no']);

function bool() {
  return z.string().transform((raw, ctx) => {
    const text = raw.trim().toLowerCase();
    if (TRUE.has(text)) return true;
    if (FALSE.has(text)) return false;
    ctx.addIssue({ code: 'custom', message: 'expected one of true/false/1/0/yes/no' });
    return z.NEVER;
  });
}

function url(options: UrlOptions = {}) {
  const protocols = options.protocols?.map((p) => (p.endsWith(':') ? p : `${p}:`).toLowerCase());
  const message = protocols
    ? `expected a URL with protocol ${protocols.map((p) => p.slice(0, -1)).join(' or ')}`
    : 'expected a URL';
  return z.string().transform((raw, ctx) => {
    const text = raw.trim();
    let parsed: URL;
    try {
      parsed = new URL(text);
    } catch {
      ctx.addIssue({ code: 'custom', message });
      return z.NEVER;
    }
    if (protocols && !protocols.includes(parsed.protocol)) {
      ctx.addIssue({ code: 'custom', message });
      return z.NEVER;
    }
    return text;
  });
}

function csv() {
  return z.string().transform((raw, ctx) => {
    const items = raw
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
    if (items.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'expected a non-empty comma-separated list' });
      return z.NEVER;
    }
    return items;
  });
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function durationMs() {
  return z.string().transform((raw, ctx) => {
    const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/i.exec(raw.trim());
    const unit = (match?.[2] ?? 'ms').toLowerCase();
    const value = match ? Math.round(Number(match[1]) * UNIT_MS[unit]!) : NaN;
    if (!match || (unit === 'ms' && match[1]!.includes('.')) || !Number.isSafeInteger(value)) {
      ctx.addIssue({
        code: 'custom',
        message: 'expected a duration like 500ms, 30s, 5m, 1h or an integer of milliseconds',
      });
      return z.NEVER;
    }
    return value;
  });
}

function enumOf<const T extends readonly [string, ...string[]]>(values: T) {
  const message = `expected one of ${values.join(', ')}`;
  return z
    .string()
    .transform((raw) => raw.trim())
    .pipe(z.enum(values, { error: message }));
}

function secret(options: SecretOptions = {}) {
  const minLength = options.minLength ?? 1;
  const message =
    minLength > 1 ? `expected a secret of at least ${minLength} characters` : 'expected a non-empty secret';
  const schema = z.string().transform((raw, ctx) => {
    const text = raw.trim();
    if (text.length < minLength) {
      ctx.addIssue({ code: 'custom', message });
      return z.NEVER;
    }
    return text;
  });
  secretSchemas.add(schema);
  return schema;
}

function logLevel() {
  return enumOf(LOG_LEVELS);
}

/**
 * Zod schemas that parse environment-variable strings. Combine with `.default(value)` (default in
 * the parsed type, e.g. `env.port().default(8080)`) or `.optional()`. Empty or blank variables
 * count as missing (see `loadConfig`), so an address can never silently be `""`.
 */
export const env = {
  /** A TCP port: integer 1–65535 (0 too with `allowZero`). */
  port,
  /** An integer, optionally bounded: `env.int({ min: 1, max: 100 })`. */
  int,
  /** `true/false/1/0/yes/no` (any case) → boolean. */
  bool,
  /** An absolute URL, optionally restricted to protocols: `env.url({ protocols: ['http', 'https'] })`. Output: the trimmed string. */
  url,
  /** Comma-separated list → non-empty array of trimmed, non-empty strings. */
  csv,
  /** `500ms`, `30s`, `5m`, `1h`, `1.5s` or a plain integer of milliseconds → milliseconds. */
  durationMs,
  /** One of the given strings: `env.enum(['a', 'b'])`. */
  enum: enumOf,
  /** A non-empty secret (trimmed), never echoed in error messages: `env.secret({ minLength: 32 })`. */
  secret,
  /** A pino level name: fatal, error, warn, info, debug, trace or silent. */
  logLevel,
};
