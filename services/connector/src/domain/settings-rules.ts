import { withoutBatchEndpoint } from '@isams-sync/isams';
import { ConnectorErrors } from './connector-errors';

export const DEFAULT_SCHEDULE_MINUTES = 60;
export const MIN_SCHEDULE_MINUTES = 5;
export const MAX_SCHEDULE_MINUTES = 7 * 24 * 60;
export const SOURCE_FORMATS = ['xml', 'json'] as const;
export type SourceFormat = (typeof SOURCE_FORMATS)[number];

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

function isLoopback(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/**
 * Validates and normalises an iSAMS web address: https only (http allowed for loopback hosts when
 * `allowInsecureLoopback`, i.e. the dev/test simulator), no credentials, query or fragment; the
 * result has no trailing slash. A bare host gets `https://`. The Batch API endpoint pasted with the
 * address (`…/api/batch/1.0/xml.ashx` or `json.ashx`, as the iSAMS FAQ prints it) is dropped: the
 * client adds it for the school's format setting, which the pasted one does not change.
 */
export function normaliseIsamsUrl(input: string, allowInsecureLoopback: boolean): string {
  const text = input.trim();
  if (text === '')
    throw ConnectorErrors.CONNECTOR_INVALID_ARGUMENT({ field: 'isamsUrl', reason: 'is required' });
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`);
  } catch {
    throw ConnectorErrors.CONNECTOR_INVALID_ARGUMENT({
      field: 'isamsUrl',
      reason: 'is not a valid web address',
    });
  }
  const bad = (reason: string) => ConnectorErrors.CONNECTOR_INVALID_ARGUMENT({ field: 'isamsUrl', reason });
  if (url.protocol === 'http:') {
    if (!(allowInsecureLoopback && isLoopback(url.hostname))) throw bad('must use https://');
  } else if (url.protocol !== 'https:') {
    throw bad('must use https://');
  }
  if (url.username || url.password) throw bad('must not contain a user name or password');
  if ([...url.searchParams.keys()].some((name) => name.toLowerCase() === 'apikey'))
    throw bad(
      'must be only the address, e.g. https://school.isams.cloud: enter the Batch API key in the key field, not in the address',
    );
  if (url.search || url.hash) throw bad('must not contain a query or fragment');
  // IPv6 literals ([…]) pass on to the egress check, which refuses them with the other IP literals.
  if (!url.hostname.includes('.') && !url.hostname.startsWith('[') && !isLoopback(url.hostname))
    throw bad('must be a full host name, e.g. https://school.isams.cloud');
  return withoutBatchEndpoint(`${url.protocol}//${url.host}${url.pathname}`);
}

// Characters that print nothing: format (Cf: zero-width space/joiners, word joiner, BOM, bidi
// marks, soft hyphen), control (Cc), separators and unassigned or private-use code points.
const INVISIBLE = /[\p{Cf}\p{Cc}\p{Z}\p{Cn}\p{Co}\p{Cs}]/u;
// An iSAMS Batch API key is a GUID, bare or braced (isams-batch-api.md): printable ASCII only.
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

/**
 * Validates a Batch API key as typed by the admin (GUID with or without braces; kept as given, white
 * space around it trimmed). A character that prints nothing (a zero-width space pasted with the key)
 * or any other character outside printable ASCII is refused: never part of an iSAMS key, it would
 * replace a working key with one iSAMS refuses. The error names the field, never the key.
 */
export function validateApiKey(input: string): string {
  const key = input.trim();
  const bad = (reason: string) => ConnectorErrors.CONNECTOR_INVALID_ARGUMENT({ field: 'apiKey', reason });
  for (const ch of key) {
    if (/[\p{Zs}\t\n\r]/u.test(ch)) throw bad('must not contain spaces or line breaks');
    if (!INVISIBLE.test(ch) && !/\s/.test(ch)) continue;
    const codePoint = ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    throw bad(
      `contains an invisible character (U+${codePoint}), e.g. one copied with the key from a web page or chat; type or paste the key again without it`,
    );
  }
  if (key.length < 8 || key.length > 200) throw bad('must be the Batch API key exactly as iSAMS shows it');
  if (!PRINTABLE_ASCII.test(key))
    throw bad(
      'may contain only printable ASCII characters (letters, digits, hyphens and braces): an iSAMS Batch API key is a GUID such as 0A1C996B-8E74-4388-A3C4-8DA1E40ADA57',
    );
  return key;
}

/** The last 4 characters shown after saving (braces ignored). */
export function keyLast4(key: string): string {
  return key.replace(/[{}]/g, '').slice(-4);
}

export function validateScheduleMinutes(value: number): number {
  if (value === 0) return DEFAULT_SCHEDULE_MINUTES;
  if (!Number.isInteger(value) || value < MIN_SCHEDULE_MINUTES || value > MAX_SCHEDULE_MINUTES) {
    throw ConnectorErrors.CONNECTOR_INVALID_ARGUMENT({
      field: 'scheduleMinutes',
      reason: `must be a whole number of minutes from ${MIN_SCHEDULE_MINUTES} to ${MAX_SCHEDULE_MINUTES}`,
    });
  }
  return value;
}

export function validateFormat(value: string): SourceFormat {
  if (value === '') return 'xml';
  if ((SOURCE_FORMATS as readonly string[]).includes(value)) return value as SourceFormat;
  throw ConnectorErrors.CONNECTOR_INVALID_ARGUMENT({ field: 'format', reason: 'must be xml or json' });
}

/** The school's time zone when none was chosen (the product's schools are mostly in the UK). */
export const DEFAULT_TIME_ZONE = 'Europe/London';
/** At most this many addresses are e-mailed about a school. */
export const MAX_NOTIFICATION_EMAILS = 10;
const MAX_EMAIL_LENGTH = 254;
// A practical address check (what a school admin types), not RFC 5322: a local part of 1–64
// characters without spaces or list separators, one @, a dotted host name. The gateway's API schema
// (connector.models.ts) states the same pattern.
const EMAIL_PATTERN =
  /^[^\s@,;<>"]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

/**
 * Validates an IANA time zone name; empty means the default. Returns the runtime's canonical name
 * for it (the spelling of `Intl.supportedValuesOf('timeZone')`, e.g. "asia/kolkata" → "Asia/Calcutta").
 */
export function validateTimeZone(value: string): string {
  const text = value.trim();
  if (text === '') return DEFAULT_TIME_ZONE;
  try {
    // The runtime also takes a UTC offset ("+01:00"): a fixed offset has no daylight-saving changes,
    // so a UK school saved that way would be an hour out half the year. Names only.
    const zone =
      text.length <= 64 && !/^[+-]/.test(text)
        ? new Intl.DateTimeFormat('en-GB', { timeZone: text }).resolvedOptions().timeZone
        : undefined;
    if (zone !== undefined && !/^[+-]/.test(zone)) return zone;
  } catch {
    // not a time zone the runtime knows: refused below
  }
  throw ConnectorErrors.CONNECTOR_INVALID_ARGUMENT({
    field: 'timeZone',
    reason: `"${text.slice(0, 64)}" is not an IANA time zone name such as ${DEFAULT_TIME_ZONE}`,
  });
}

/**
 * Validates the addresses to notify: each a plausible e-mail address, at most
 * {@link MAX_NOTIFICATION_EMAILS}; trimmed, the domain lower-cased, duplicates dropped (first kept).
 */
export function validateNotificationEmails(values: readonly string[]): string[] {
  const result: string[] = [];
  const seen = new Set<string>();
  values.forEach((value, index) => {
    const text = value.trim();
    if (text.length > MAX_EMAIL_LENGTH || !EMAIL_PATTERN.test(text)) {
      throw ConnectorErrors.CONNECTOR_INVALID_ARGUMENT({
        field: `notificationEmails[${index}]`,
        reason: `"${text.slice(0, 64)}" is not an e-mail address (name@school.org)`,
      });
    }
    const at = text.lastIndexOf('@');
    const address = `${text.slice(0, at)}@${text.slice(at + 1).toLowerCase()}`;
    if (seen.has(address.toLowerCase())) return;
    seen.add(address.toLowerCase());
    result.push(address);
  });
  if (result.length > MAX_NOTIFICATION_EMAILS) {
    throw ConnectorErrors.CONNECTOR_INVALID_ARGUMENT({
      field: 'notificationEmails',
      reason: `at most ${MAX_NOTIFICATION_EMAILS} addresses`,
    });
  }
  return result;
}
