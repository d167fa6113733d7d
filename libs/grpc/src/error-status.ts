import { Metadata, status } from '@grpc/grpc-js';
import type { StatusObject } from '@grpc/grpc-js';
import { grpcStatusFor, isAppError, toPublicError } from '@isams-sync/errors';
import { ERROR_CODE_KEY, ERROR_DETAILS_KEY } from './call-metadata';

/**
 * Longest status message sent: characters of its percent-encoded form, as grpc-js writes it into the
 * `grpc-message` trailer (`encodeURI`; up to 9 characters per non-ASCII character).
 */
export const MAX_STATUS_MESSAGE_CHARS = 1024;
/** Longest JSON sent in `x-error-details-bin`, in UTF-8 bytes (base64 on the wire: 4/3 of it). */
export const MAX_ERROR_DETAILS_BYTES = 3072;

/**
 * The gRPC status a thrown value is sent as: the {@link AppError}'s kind decides the status code,
 * `x-error-code` carries its stable code and `x-error-details-bin` its JSON details. AppErrors of
 * kind `internal` and every other value become `INTERNAL` / `Internal error` / code `INTERNAL`, so no
 * stack, cause or driver message reaches the client.
 *
 * Message and details are bounded ({@link MAX_STATUS_MESSAGE_CHARS}, {@link MAX_ERROR_DETAILS_BYTES}):
 * trailers travel in one HTTP/2 header block, and a block past the peer's header-list limit (64 KiB
 * for Node, 8–16 KiB for gRPC's C-core and Go clients) makes the client reset the stream, so the
 * caller would see a protocol error instead of the error. See {@link boundStatusMessage} and
 * {@link boundErrorDetails}.
 */
export function toGrpcStatus(err: unknown): StatusObject {
  const pub = toPublicError(err);
  const code = isAppError(err) && err.kind !== 'internal' ? grpcStatusFor(err) : status.INTERNAL;
  const metadata = new Metadata();
  metadata.set(ERROR_CODE_KEY, pub.code);
  if (pub.details !== undefined) {
    const json = boundErrorDetails(pub.details);
    if (json !== undefined) metadata.set(ERROR_DETAILS_KEY, Buffer.from(json, 'utf8'));
  }
  return { code, details: boundStatusMessage(pub.message), metadata };
}

// A UTF-16 surrogate not part of a pair: `encodeURI` (grpc-js, on the status message) throws on one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * The status message as sent: lone surrogates replaced by U+FFFD (grpc-js's `encodeURI` would throw
 * on one, outside any handler), and, when its encoded form is longer than
 * {@link MAX_STATUS_MESSAGE_CHARS}, its beginning — cut between whole characters — followed by
 * `… (N more characters not sent)`.
 */
export function boundStatusMessage(message: string): string {
  const text = message.replace(LONE_SURROGATE, '\uFFFD');
  if (text.length <= MAX_STATUS_MESSAGE_CHARS / 9 || encodeURI(text).length <= MAX_STATUS_MESSAGE_CHARS)
    return text;
  // The note's number is at most text.length, so this budget holds whatever is cut.
  const note = (left: number) => `… (${left} more characters not sent)`;
  let budget = MAX_STATUS_MESSAGE_CHARS - encodeURI(note(text.length)).length;
  let kept = 0;
  for (const char of text) {
    budget -= encodeURI(char).length;
    if (budget < 0) break;
    kept += char.length;
  }
  return `${text.slice(0, kept)}${note(text.length - kept)}`;
}

/**
 * The JSON of `details` as sent, at most {@link MAX_ERROR_DETAILS_BYTES} bytes. Longer details keep
 * their top-level scalars and, of each top-level array (in key order), the items that fit, in order
 * (one too big for what is left is skipped, a smaller one after it may still fit), with
 * `truncated: true` and `omitted: { <key>: <items left out> }`; when even that does not fit, they are
 * `{ "truncated": true }`. Undefined when `details` cannot be serialised (a cycle, a BigInt).
 */
export function boundErrorDetails(details: Record<string, unknown>): string | undefined {
  const json = safeJson(details);
  if (json === undefined || Buffer.byteLength(json) <= MAX_ERROR_DETAILS_BYTES) return json;
  const arrays = Object.entries(details).filter((e): e is [string, unknown[]] => Array.isArray(e[1]));
  // Every array empty and every count at its largest: the size the shortened details never exceed.
  const omitted: Record<string, number> = Object.fromEntries(arrays.map(([k, v]) => [k, v.length]));
  const shortened: Record<string, unknown> = {
    ...details,
    ...Object.fromEntries(arrays.map(([k]) => [k, [] as unknown[]])),
    truncated: true,
    omitted,
  };
  let size = Buffer.byteLength(safeJson(shortened) ?? '');
  if (size > MAX_ERROR_DETAILS_BYTES) return JSON.stringify({ truncated: true });
  for (const [key, items] of arrays) {
    const kept = shortened[key] as unknown[];
    for (const item of items) {
      // An item too big for what is left is left out (counted); a smaller one after it may still fit.
      const itemSize = Buffer.byteLength(safeJson(item) ?? 'null') + (kept.length > 0 ? 1 : 0);
      if (size + itemSize > MAX_ERROR_DETAILS_BYTES) continue;
      kept.push(item);
      size += itemSize;
    }
    if (kept.length === items.length) delete omitted[key];
    else omitted[key] = items.length - kept.length;
  }
  const bounded = safeJson(shortened);
  return bounded !== undefined && Buffer.byteLength(bounded) <= MAX_ERROR_DETAILS_BYTES
    ? bounded
    : JSON.stringify({ truncated: true });
}

// Details are client-safe by contract, but a cyclic or BigInt value must not turn an error into a crash.
function safeJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

/** Decodes `x-error-details-bin` from trailing metadata; undefined when absent or not a JSON object. */
export function readErrorDetails(metadata: Metadata | undefined): Record<string, unknown> | undefined {
  const [raw] = metadata?.get(ERROR_DETAILS_KEY) ?? [];
  if (raw === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.isBuffer(raw) ? raw.toString('utf8') : raw);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
