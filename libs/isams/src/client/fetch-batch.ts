import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, ProxyAgent, request } from 'undici';
import type { Dispatcher } from 'undici';
import type { LoggerLike } from '@isams-sync/logger';
import { classifyMessage } from '../errors/classify-message';
import { IsamsError } from '../errors/isams-error';
import { redactSecrets, redactUrl } from '../errors/redact';
import type { BatchParseEvent, ParserLimits, StreamBatchOptions } from '../parser/parse-events';
import {
  EventIterator,
  streamBatchDocument,
  streamBatchDocumentBatches,
} from '../parser/stream-batch-document';
import { DigestedBody } from './body-digest';
import { bodyFormat, sniffBodyFormat } from './body-format';
import { contentCodings, decodeBody, unreadableCoding } from './content-coding';
import type { BodyDigestOptions } from './body-digest';
import { createEgressGuard } from './egress-guard';
import type { EgressGuard, EgressPolicy } from './egress-guard';
import { classifyNetworkError } from './network-errors';
import type { NetworkErrorContext } from './network-errors';
import { decideRedirect, isRedirectStatus } from './redirects';

/** Retry policy for transient failures. */
export interface RetryPolicy {
  /** Total attempts including the first (1 = no retries). */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** Options of {@link fetchBatch} and {@link fetchAndParse}. */
export interface FetchBatchOptions {
  /** `https://<school>.isams.cloud` (path and query are added). */
  baseUrl: string;
  /** The Batch API key, sent exactly as given (braced or bare), URL-encoded. Never logged. */
  apiKey: string;
  format: 'xml' | 'json';
  /** Egress HTTP(S) proxy, e.g. `http://user:pass@proxy:3128`; every request goes through it. */
  proxyUrl?: string;
  /**
   * Where requests may go (public addresses only, checked after DNS on every hop); the connector
   * always sets it. Without it any address is requested (the CLI and tests of this library).
   */
  egress?: EgressPolicy;
  connectTimeoutMs: number;
  /** Idle time-out: the longest wait for response headers or for the next body bytes. */
  readTimeoutMs: number;
  /** Time-out for the whole exchange, body included. */
  totalTimeoutMs: number;
  maxBytes: number;
  /** Depth, record-size and record-count limits of the parser (defaults when unset). */
  parserLimits?: Partial<ParserLimits>;
  retry: RetryPolicy;
  /** POSTs `<Filters><MethodsToRun>…` so only these allocated methods run. */
  methodsToRun?: string[];
  signal?: AbortSignal;
  logger?: LoggerLike;
  /** Extra CA certificates / TLS options for self-hosted servers (tests use it too). */
  tls?: { ca?: string | Buffer; rejectUnauthorized?: boolean };
  /** Called as body bytes arrive (for CLI progress). */
  onProgress?: (bytes: number, total: number | undefined) => void;
  /** {@link fetchAndParse} only: hash the body as it arrives, read it ahead, stop on a known body. */
  digest?: BodyDigestOptions;
}

/**
 * The last event of {@link fetchAndParse} when the body hashed to `digest.knownSha256`: the parse
 * stopped there (no `end`); the caller's reading of that body stands for this one.
 */
export interface KnownBodyEvent {
  type: 'known-body';
  sha256: string;
  bytes: number;
}

/** A successful (2xx) response whose body has not been read yet. */
export interface BatchResponse {
  status: number;
  contentType: string | undefined;
  contentLength: number | undefined;
  /** The body; read it exactly once, straight into {@link streamBatchDocument}. */
  body: AsyncIterable<Uint8Array>;
  attempts: number;
  /** The request URL with the key redacted. */
  url: string;
  /**
   * Stops reading the body and closes the connection at once, also while a read of it is pending
   * (a parse that stopped early, with the body read ahead of it); nothing once it was read to its end.
   */
  release: () => void;
}

const ERROR_BODY_LIMIT = 256 * 1024;
/** What each decoding step of a compressed error body may give (the first 256 KiB are kept). */
const ERROR_BODY_DECODE_LIMIT = 16 * ERROR_BODY_LIMIT;
const TRANSIENT_STATUSES = new Set([408, 429, 502, 503, 504]);

// The endpoint path as the iSAMS FAQ prints it (`/api/batch/1.0/xml.ashx`), or its folder, at the end
// of an address, any letter case, trailing slashes included.
const BATCH_ENDPOINT_SUFFIX = /\/api\/batch\/1\.0(?:\/(?:xml|json)\.ashx)?\/*$/i;

/**
 * The iSAMS address without the Batch API endpoint an admin may have pasted with it
 * (`https://school.isams.cloud/api/batch/1.0/xml.ashx` → `https://school.isams.cloud`) and without
 * trailing slashes. Takes an address without query or fragment.
 */
export function withoutBatchEndpoint(address: string): string {
  return address.replace(BATCH_ENDPOINT_SUFFIX, '').replace(/\/+$/, '');
}

/**
 * Builds the Batch API URL for `format`; the key is URL-encoded. A `baseUrl` that already ends with
 * the endpoint path (either format) gets it once, for `format`.
 */
export function buildBatchUrl(baseUrl: string, apiKey: string, format: 'xml' | 'json'): string {
  const base = /^https?:\/\//i.test(baseUrl) ? baseUrl : `https://${baseUrl}`;
  return `${withoutBatchEndpoint(base)}/api/batch/1.0/${format}.ashx?apiKey=${encodeURIComponent(apiKey)}`;
}

function filtersBody(methods: string[]): string {
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<Filters><MethodsToRun>${methods.map((m) => `<Method>${esc(m)}</Method>`).join('')}</MethodsToRun></Filters>`;
}

function proxyOf(proxyUrl: string | undefined): { host: string; port: number } | undefined {
  if (proxyUrl === undefined) return undefined;
  const u = new URL(proxyUrl);
  return { host: u.hostname, port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)) };
}

function dispatcherFor(opts: FetchBatchOptions, guard: EgressGuard | undefined): Dispatcher {
  const timeouts = { headersTimeout: opts.readTimeoutMs, bodyTimeout: opts.readTimeoutMs };
  const connect = { timeout: opts.connectTimeoutMs, ...(opts.tls ?? {}) };
  if (opts.proxyUrl !== undefined) {
    // The proxy resolves the target itself: `requestWithinHost` vets it before each CONNECT.
    return new ProxyAgent({
      uri: opts.proxyUrl,
      // Always a CONNECT tunnel, also for http:// targets (undici 8 forwards those as absolute-URI
      // requests by default): the egress proxy sees one kind of traffic and never the request line.
      proxyTunnel: true,
      ...timeouts,
      connect,
      requestTls: opts.tls ?? {},
      proxyTls: { timeout: opts.connectTimeoutMs },
    });
  }
  // The guard's lookup resolves the host, refuses it if any answer is not public and hands the
  // socket only the vetted addresses, so the address checked is the address connected to (no DNS
  // rebinding window); TLS SNI and Host stay the host name.
  return new Agent({ ...timeouts, connect: guard?.lookup ? { ...connect, lookup: guard.lookup } : connect });
}

/** Exponential back-off with jitter (half fixed, half random), capped. */
export function backoffDelay(
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(exp / 2 + (random() * exp) / 2);
}

const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const MONTH = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const TIME = '\\d{2}:\\d{2}:\\d{2}';
/** RFC 9110 §5.6.7: IMF-fixdate, the obsolete RFC 850 form and asctime (which is GMT too). */
const HTTP_DATE = new RegExp(
  `^(?:${DAY}, \\d{2} ${MONTH} \\d{4} ${TIME} GMT|${DAY}[a-z]*, \\d{2}-${MONTH}-\\d{2} ${TIME} GMT|${DAY} ${MONTH} [ \\d]\\d ${TIME} \\d{4})$`,
  'i',
);

/**
 * The wait a `Retry-After` asks for (RFC 9110 §10.2.3: delay-seconds or an HTTP date), or undefined
 * when there is none or it is unusable (blank, negative, not a number or a date): then the usual
 * back-off applies, never an immediate retry.
 */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (v === undefined || v === '') return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // Only the three HTTP-date forms: V8's Date.parse also reads garbage ("Retry 5" is May 2001).
  if (!HTTP_DATE.test(v)) return undefined;
  const at = Date.parse(/GMT$/i.test(v) ? v : `${v} GMT`);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * The error without the key in any form: a server's error text may quote it (`The API key {…} is
 * invalid`, or the request URL), and an error's message and details reach the run, its events, the
 * admin and notification e-mails.
 */
export function withoutKey(err: IsamsError, apiKey: string): IsamsError {
  const clean = (v: unknown): unknown => {
    if (typeof v === 'string') return redactSecrets(v, apiKey);
    if (Array.isArray(v)) return v.map(clean);
    if (v !== null && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, clean(x)]));
    return v;
  };
  const message = redactSecrets(err.message, apiKey);
  const details = err.details === undefined ? undefined : (clean(err.details) as Record<string, unknown>);
  const adminAction = redactSecrets(err.adminAction, apiKey);
  if (
    message === err.message &&
    adminAction === err.adminAction &&
    JSON.stringify(details) === JSON.stringify(err.details)
  )
    return err;
  return new IsamsError({
    code: err.code,
    message,
    ...(details === undefined ? {} : { details }),
    ...(err.cause === undefined ? {} : { cause: err.cause }),
    transient: err.transient,
    adminAction,
  });
}

/** Drops a body nobody will read (its abort error has no reader to go to). */
function discard(body: { on(event: 'error', listener: () => void): unknown; destroy(): unknown }): void {
  body.on('error', () => undefined);
  body.destroy();
}

/**
 * The `charset` parameter of a `Content-Type` (`text/xml; charset="windows-1252"` → `windows-1252`),
 * or undefined when there is none. The body is decoded in it (README › Text encoding).
 */
export function charsetOf(contentType: string | undefined): string | undefined {
  const m = /;\s*charset\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentType ?? '');
  const value = (m?.[1] ?? m?.[2])?.trim();
  return value === undefined || value === '' ? undefined : value;
}

async function* once(value: Uint8Array): AsyncGenerator<Uint8Array> {
  yield value;
}

/** Reads at most `limit` bytes of an error body and stops there (a hostile host may send gigabytes). */
async function readLimited(body: AsyncIterable<Uint8Array>, limit: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    parts.push(Buffer.from(chunk.subarray(0, limit - size)));
    size += Math.min(chunk.byteLength, limit - size);
    if (size >= limit) break;
  }
  return Buffer.concat(parts);
}

/**
 * The first {@link ERROR_BODY_LIMIT} bytes of an error body, decoded when a server compressed it
 * anyway (a `<Message>` says what to fix). A body that does not decode, or whose codings cannot be
 * read, is given as it came: it is only classified, and a plain body labelled gzip reads that way.
 */
async function errorBodyOf(
  body: AsyncIterable<Uint8Array>,
  encoding: string | string[] | undefined,
): Promise<Buffer> {
  const raw = await readLimited(body, ERROR_BODY_LIMIT);
  const codings = contentCodings(encoding);
  if (codings.length === 0 || unreadableCoding(codings) !== undefined) return raw;
  try {
    return await readLimited(decodeBody(once(raw), codings, ERROR_BODY_DECODE_LIMIT), ERROR_BODY_LIMIT);
  } catch {
    return raw;
  }
}

/** Classifies a non-2xx response from its status and (if any) its `<Message>` body. */
// Error bodies are `<Message>` XML on both endpoints (the reference: "same for XML and, as far as can
// be seen, JSON"), so the body is sniffed rather than parsed in the endpoint's format.
export async function classifyErrorResponse(
  status: number,
  body: Buffer,
  charset?: string,
): Promise<IsamsError> {
  try {
    const format = bodyFormat(body, 'xml') ?? 'xml';
    for await (const _ of streamBatchDocument(once(body), { format, ...(charset ? { charset } : {}) }))
      void _;
  } catch (err) {
    if (err instanceof IsamsError && typeof err.details?.messageId === 'string') {
      const d = err.details as { messageId: string; title?: string; description?: string };
      return classifyMessage({ messageId: d.messageId, title: d.title, description: d.description }, status);
    }
  }
  const details = { httpStatus: status };
  switch (status) {
    case 401:
      return new IsamsError({
        code: 'ISAMS_INVALID_KEY',
        message: 'iSAMS rejected the Batch API key (HTTP 401).',
        details,
      });
    case 403:
      return new IsamsError({
        code: 'ISAMS_IP_NOT_ALLOWED',
        message:
          'iSAMS refused the request (HTTP 403 without an iSAMS message; most likely an IP restriction).',
        details,
      });
    case 429:
      return new IsamsError({
        code: 'ISAMS_THROTTLED',
        message: 'iSAMS throttled the request (HTTP 429).',
        details,
      });
    case 408:
    case 504:
      return new IsamsError({
        code: 'ISAMS_TIMEOUT',
        message: `iSAMS or a gateway timed out (HTTP ${status}).`,
        details,
      });
    case 407:
      return new IsamsError({
        code: 'ISAMS_PROXY_ERROR',
        message: 'The egress proxy requires authentication (HTTP 407).',
        details,
        transient: false,
      });
    default:
      return new IsamsError({
        code: 'ISAMS_HTTP_ERROR',
        message: `iSAMS answered HTTP ${status}.`,
        details,
        transient: TRANSIENT_STATUSES.has(status),
      });
  }
}

type RequestOptions = NonNullable<Parameters<typeof request>[1]>;

/**
 * `request`, following redirects only within the iSAMS host (see {@link decideRedirect}): the key
 * is in the URL, so a redirect to any other address is refused, never followed. Method and body
 * are kept on every hop (a POST carries the MethodsToRun filter). Every hop passes the egress
 * guard first; through a proxy the target is also resolved and vetted here, before the CONNECT.
 */
async function requestWithinHost(
  url: string,
  init: RequestOptions,
  apiKey: string,
  logger: LoggerLike | undefined,
  egress: { guard: EgressGuard; viaProxy: boolean } | undefined,
): Promise<Awaited<ReturnType<typeof request>>> {
  let current = new URL(url);
  for (let hops = 0; ; hops++) {
    egress?.guard.check(current);
    if (egress?.viaProxy) await egress.guard.vet(current.hostname);
    const res = await request(current, init);
    if (!isRedirectStatus(res.statusCode)) return res;
    await res.body.dump().catch(() => undefined);
    const location = res.headers.location;
    const decision = decideRedirect(
      current,
      res.statusCode,
      Array.isArray(location) ? location[0] : location,
      hops,
      apiKey,
    );
    if ('refuse' in decision) throw decision.refuse;
    logger?.info(
      {
        status: res.statusCode,
        from: redactSecrets(current.href, apiKey),
        to: redactSecrets(decision.follow.href, apiKey),
      },
      'iSAMS redirected within its host; following',
    );
    current = decision.follow;
  }
}

async function* limitBody(
  body: AsyncIterable<Uint8Array>,
  maxBytes: number,
  total: number | undefined,
  ctx: NetworkErrorContext,
  onProgress: FetchBatchOptions['onProgress'],
  done: () => void,
): AsyncGenerator<Uint8Array> {
  let bytes = 0;
  try {
    for await (const chunk of body) {
      bytes += chunk.byteLength;
      if (bytes > maxBytes) {
        throw new IsamsError({
          code: 'ISAMS_RESPONSE_TOO_LARGE',
          message: `The iSAMS document is larger than the limit of ${maxBytes} bytes.`,
          details: { maxBytes },
        });
      }
      onProgress?.(bytes, total);
      yield chunk;
    }
  } catch (err) {
    // A caller's own abort is not an iSAMS failure: pass it through unchanged.
    if ((err as Error | undefined)?.name === 'AbortError') throw err;
    throw classifyNetworkError(err, { ...ctx, phase: 'body' });
  } finally {
    done();
  }
}

/**
 * Requests the Batch API document with time-outs, the egress proxy and retries of transient
 * failures (network errors, 408/429/502/503/504, the 500 deadlock and lock time-out messages).
 * Retries happen only before the body is handed out; the body is returned as a stream.
 *
 * @throws {@link IsamsError} with a stable code; messages never contain the key.
 */
export async function fetchBatch(opts: FetchBatchOptions): Promise<BatchResponse> {
  const url = buildBatchUrl(opts.baseUrl, opts.apiKey, opts.format);
  const safeUrl = redactUrl(url);
  const host = new URL(url).host;
  const proxy = proxyOf(opts.proxyUrl);
  const ctx: NetworkErrorContext = {
    host,
    apiKey: opts.apiKey,
    phase: 'connect',
    ...(proxy ? { proxy } : {}),
  };
  const guard = opts.egress ? createEgressGuard(opts.egress, opts.logger) : undefined;
  const egress = guard ? { guard, viaProxy: opts.proxyUrl !== undefined } : undefined;
  const dispatcher = dispatcherFor(opts, guard);
  const maxAttempts = Math.max(1, opts.retry.maxAttempts);
  let closed = false;
  const close = (): void => {
    if (!closed) {
      closed = true;
      void dispatcher.close().catch(() => undefined);
    }
  };

  for (let attempt = 1; ; attempt++) {
    opts.signal?.throwIfAborted();
    const total = AbortSignal.timeout(opts.totalTimeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, total]) : total;
    let failure: IsamsError;
    let wait: number | undefined;
    try {
      const res = await requestWithinHost(
        url,
        {
          method: opts.methodsToRun ? 'POST' : 'GET',
          dispatcher,
          signal,
          headers: {
            accept: opts.format === 'json' ? 'application/json' : 'application/xml',
            // The document uncompressed (a server that compresses anyway is decoded: content-coding.ts).
            'accept-encoding': 'identity',
            ...(opts.methodsToRun ? { 'content-type': 'application/xml' } : {}),
          },
          ...(opts.methodsToRun ? { body: filtersBody(opts.methodsToRun) } : {}),
        },
        opts.apiKey,
        opts.logger,
        egress,
      );
      const contentLength =
        res.headers['content-length'] === undefined ? undefined : Number(res.headers['content-length']);
      if (res.statusCode >= 200 && res.statusCode < 300) {
        if (contentLength !== undefined && contentLength > opts.maxBytes) {
          discard(res.body);
          close();
          throw new IsamsError({
            code: 'ISAMS_RESPONSE_TOO_LARGE',
            message: `The iSAMS document (${contentLength} bytes) is larger than the limit of ${opts.maxBytes} bytes.`,
            details: { maxBytes: opts.maxBytes, contentLength },
          });
        }
        const codings = contentCodings(res.headers['content-encoding']);
        const unreadable = unreadableCoding(codings);
        if (unreadable !== undefined) {
          discard(res.body);
          close();
          throw unreadable;
        }
        opts.logger?.debug({ url: safeUrl, status: res.statusCode, attempt }, 'iSAMS batch response');
        const ct = res.headers['content-type'];
        const wire = limitBody(
          res.body,
          opts.maxBytes,
          contentLength,
          { ...ctx, phase: 'body', totalTimeoutMs: opts.totalTimeoutMs },
          opts.onProgress,
          close,
        );
        return {
          status: res.statusCode,
          contentType: Array.isArray(ct) ? ct[0] : ct,
          contentLength,
          body: codings.length === 0 ? wire : decodeBody(wire, codings, opts.maxBytes),
          attempts: attempt,
          url: safeUrl,
          release: () => {
            res.body.destroy();
            close();
          },
        };
      }
      const body = await errorBodyOf(res.body, res.headers['content-encoding']);
      const errorType = res.headers['content-type'];
      failure = await classifyErrorResponse(
        res.statusCode,
        body,
        charsetOf(Array.isArray(errorType) ? errorType[0] : errorType),
      );
      // 429 and 503 say how long to wait (RFC 9110 §10.2.3), capped at the policy's maximum below.
      if (res.statusCode === 429 || res.statusCode === 503) wait = retryAfterMs(res.headers['retry-after']);
    } catch (err) {
      if (opts.signal?.aborted) {
        close();
        throw opts.signal.reason;
      }
      if (err instanceof IsamsError && err.code === 'ISAMS_RESPONSE_TOO_LARGE') throw err;
      if (err instanceof IsamsError && err.code === 'ISAMS_MALFORMED_DOCUMENT')
        throw withoutKey(err, opts.apiKey);
      failure = total.aborted
        ? new IsamsError({
            code: 'ISAMS_TIMEOUT',
            message: `The request to ${host} took longer than ${opts.totalTimeoutMs} ms.`,
            details: { host, totalTimeoutMs: opts.totalTimeoutMs },
          })
        : classifyNetworkError(err, { ...ctx, phase: 'response' });
    }
    if (!failure.transient || attempt >= maxAttempts) {
      close();
      opts.logger?.warn(
        { url: safeUrl, code: failure.code, attempt },
        redactSecrets(failure.message, opts.apiKey),
      );
      if (attempt > 1) failure.details!.attempts = attempt;
      throw withoutKey(failure, opts.apiKey);
    }
    const delay = Math.min(opts.retry.maxDelayMs, wait ?? backoffDelay(attempt, opts.retry));
    opts.logger?.info(
      { url: safeUrl, code: failure.code, attempt, delayMs: delay },
      'iSAMS request failed transiently; retrying',
    );
    await sleep(delay, undefined, opts.signal ? { signal: opts.signal } : {});
  }
}

/**
 * Stream-parses a document's body into batches of events, never an empty batch, the last ending
 * with the document's `end` ({@link streamBatchDocumentBatches}, or the same parse run elsewhere —
 * a worker thread — and its events turned into what the caller needs). Throws the parse's
 * `IsamsError`s, and the input's own errors unchanged.
 */
export type BatchParser<E> = (
  input: AsyncIterable<Uint8Array>,
  opts: StreamBatchOptions,
) => AsyncIterable<readonly E[]>;

/**
 * Fetches and stream-parses the document. A transient failure is retried (whole request) only
 * while no event has been yielded yet — once records have gone to the consumer a retry would
 * duplicate them, so later failures are thrown and the consumer must discard the partial run.
 *
 * With `digest`, the body is hashed as it arrives and read up to `digest.readAheadBytes` ahead of
 * the parse; once the whole body hashes to `digest.knownSha256`, `known-body` ends the stream (a
 * body that fitted the read-ahead is not handed to the parse at all).
 */
export function fetchAndParse(
  opts: FetchBatchOptions,
): AsyncGenerator<BatchParseEvent | KnownBodyEvent, void, undefined> {
  return new EventIterator(fetchAndParseBatches(opts, streamBatchDocumentBatches));
}

/**
 * {@link fetchAndParse} in batches, with the parse `parse` does: the same request, retries and
 * known body; a `known-body` event comes as a batch of its own, the last.
 */
export async function* fetchAndParseBatches<E>(
  opts: FetchBatchOptions,
  parse: BatchParser<E>,
): AsyncGenerator<readonly (E | KnownBodyEvent)[], void, undefined> {
  const maxAttempts = Math.max(1, opts.retry.maxAttempts);
  let used = 0;
  for (;;) {
    const res = await fetchBatch({ ...opts, retry: { ...opts.retry, maxAttempts: maxAttempts - used } });
    used += res.attempts;
    const charset = charsetOf(res.contentType);
    // The same bytes read differently in another charset: the digest covers the charset too.
    const body = opts.digest
      ? new DigestedBody(res.body, opts.digest, charset === undefined ? undefined : `charset=${charset}\n`)
      : undefined;
    let yielded = false;
    try {
      if (await body?.known()) {
        yield [{ type: 'known-body', ...body!.digest! }];
        return;
      }
      // The body's own format, whatever the endpoint promised (an XML error on the JSON endpoint).
      const sniffed = await sniffBodyFormat(body ?? res.body, opts.format);
      for await (const batch of parse(sniffed.body, {
        format: sniffed.format,
        ...(charset === undefined ? {} : { charset }),
        maxBytes: opts.maxBytes,
        ...(opts.parserLimits ? { limits: opts.parserLimits } : {}),
      })) {
        if (body?.isKnown) {
          yield [{ type: 'known-body', ...body.digest! }];
          return;
        }
        yielded = true;
        yield batch;
      }
      return;
    } catch (err) {
      if (!(err instanceof IsamsError)) throw err;
      if (yielded || !err.transient || used >= maxAttempts) throw withoutKey(err, opts.apiKey);
      const delay = backoffDelay(used, opts.retry);
      opts.logger?.info(
        { url: res.url, code: err.code, attempt: used, delayMs: delay },
        'iSAMS document failed before any record; retrying',
      );
      await sleep(delay, undefined, opts.signal ? { signal: opts.signal } : {});
    } finally {
      body?.close();
      res.release();
    }
  }
}
