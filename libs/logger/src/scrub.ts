import { isSensitiveField, REDACTED } from './redaction';

// `apiKey=…`, `password: …`, `"token":"…"` – a secret-named parameter or property followed by its
// value: a braced value (`{GUID}`, raw or percent-encoded) or text up to the next separator of a
// query string, JSON or prose.
const SECRET_ASSIGNMENT =
  /\b(api[_-]?key|password|passwd|secret|(?:access[_-]?|refresh[_-]?)?token)("?\s*[:=]\s*"?)(\{[^}\s]*\}|%7B[^&#\s]*?%7D|[^"'&#\s,;}<>]+)/gi;
// user:password@ in any URL (mongodb://, amqp://, https://).
const URL_CREDENTIALS = /(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi;
// An e-mail address (personal data: a school's contacts, staff, parents), internationalised ones
// (`josé@école.fr`) included. The top-level domain is letters only, so `node@24.21.0` and similar
// package specs stay readable; `\b` is ASCII-only, hence the lookahead after it.
const EMAIL_ADDRESS =
  /[\p{L}\p{M}\p{N}._%+-]+@[\p{L}\p{M}\p{N}-]+(?:\.[\p{L}\p{M}\p{N}-]+)*\.\p{L}[\p{L}\p{M}]+(?![\p{L}\p{M}\p{N}_])/gu;
// A GUID with or without braces (raw or percent-encoded): iSAMS API keys look like this.
const ANY_GUID = /(?:\{|%7B)?\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b(?:\}|%7D)?/gi;
// Only braced GUIDs: the iSAMS key format. Unbraced UUIDs in fields are our own ids (sync runs,
// events) and must stay readable.
const BRACED_GUID = /(?:\{|%7B)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?:\}|%7D)/gi;

// The includes() checks skip regexes that cannot match: most logged strings are short ids and names.
function scrubCommon(text: string): string {
  let out = text;
  if (out.includes('=') || out.includes(':')) out = out.replace(SECRET_ASSIGNMENT, `$1$2${REDACTED}`);
  if (out.includes('@'))
    out = out.replace(URL_CREDENTIALS, `$1${REDACTED}@`).replace(EMAIL_ADDRESS, REDACTED);
  return out;
}

const mayHoldGuid = (text: string): boolean => text.length >= 36 && text.includes('-');

/**
 * Removes secrets from free text such as log messages, error messages and URLs: the value of any
 * `apiKey=` (also `api_key`, `password`, `secret`, `token`) parameter or property, credentials in
 * URLs (`scheme://user:pass@`), e-mail addresses (personal data), and every GUID with or without
 * braces (iSAMS keys are GUIDs like
 * `{0A1C996B-8E74-4388-A3C4-8DA1E40ADA57}`). Each becomes `[REDACTED]`.
 *
 * Because every GUID goes, put ids that must stay readable into log fields, not into messages.
 */
export function scrubSecrets(text: string): string {
  const out = scrubCommon(text);
  return mayHoldGuid(out) ? out.replace(ANY_GUID, REDACTED) : out;
}

/** The scrub for string values of log fields: like {@link scrubSecrets} but keeps unbraced UUIDs. */
export function scrubFieldText(text: string): string {
  const out = scrubCommon(text);
  return mayHoldGuid(out) ? out.replace(BRACED_GUID, REDACTED) : out;
}

type StringScrubber = (text: string) => string;

const MAX_DEPTH = 12;

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Deeply copies plain objects and arrays, replacing values of sensitive fields (any depth, any case)
 * by `[REDACTED]` and passing strings through `scrubString`. Other objects (errors, dates, buffers,
 * class instances) are kept as they are. Returns the input itself when nothing changed.
 */
export function scrubValue(
  value: unknown,
  scrubString: StringScrubber,
  depth = 0,
  seen = new WeakSet<object>(),
): unknown {
  if (typeof value === 'string') return scrubString(value);
  if (typeof value !== 'object' || value === null || depth > MAX_DEPTH) return value;
  if (seen.has(value)) return value;
  if (Array.isArray(value)) {
    seen.add(value);
    let changed = false;
    const out = value.map((item) => {
      const scrubbed = scrubValue(item, scrubString, depth + 1, seen);
      changed ||= scrubbed !== item;
      return scrubbed;
    });
    seen.delete(value);
    return changed ? out : value;
  }
  if (!isPlainObject(value)) return value;
  seen.add(value);
  const out = scrubRecord(value, scrubString, depth, seen);
  seen.delete(value);
  return out;
}

/** {@link scrubValue} for the own enumerable properties of any object; always returns a plain copy when changed. */
export function scrubRecord(
  record: Record<string, unknown>,
  scrubString: StringScrubber,
  depth = 0,
  seen = new WeakSet<object>(),
): Record<string, unknown> {
  let changed = false;
  const out: Record<string, unknown> = {};
  for (const [field, item] of Object.entries(record)) {
    const scrubbed =
      item !== undefined && item !== null && isSensitiveField(field)
        ? REDACTED
        : scrubValue(item, scrubString, depth + 1, seen);
    changed ||= scrubbed !== item;
    out[field] = scrubbed;
  }
  return changed ? out : record;
}
