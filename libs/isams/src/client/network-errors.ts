import { IsamsError } from '../errors/isams-error';
import { boundText } from '../errors/bound-text';
import { redactSecrets } from '../errors/redact';

const TLS_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_REVOKED',
  'EPROTO',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

// OpenSSL's words for a chain it cannot complete: nearly always a server that sends only its own
// certificate. Browsers fetch the missing intermediates themselves (AIA), so the site looks fine there.
const INCOMPLETE_CHAIN_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);
const INCOMPLETE_CHAIN_ACTION =
  "The iSAMS server's TLS certificate could not be traced to a trusted authority: the iSAMS server must send its intermediate certificate(s) along with its own. Browsers hide this by fetching missing intermediates themselves, so the site can look fine in a browser. Ask the school's IT to install the full certificate chain on the iSAMS host (or, if the certificate comes from a private authority, a certificate from a public one).";

const NOT_HTTP_ACTION =
  'The iSAMS server (or a proxy or firewall in front of it) answered with something that is not a valid HTTP response, so SchoolCloud did not read it and changed nothing. Check that the iSAMS address points at the iSAMS web server (not another service on that port); if it does, ask whoever runs the server or the proxy to correct its responses.';

const CONTENT_LENGTH_MISMATCH_ACTION =
  'The iSAMS server (or a proxy in front of it) sent a response whose body does not match its Content-Length header — typically one sent both with a Content-Length and in chunks — so SchoolCloud did not read it and changed nothing. Ask whoever runs the iSAMS server or the proxy to correct the response framing; nothing in iSAMS itself needs to change.';

interface NodeishError {
  name?: string;
  /** A string for Node and undici errors; a number on a DOMException (e.g. 23 for TimeoutError). */
  code?: string | number;
  message?: string;
  address?: string;
  port?: number;
  hostname?: string;
  cause?: unknown;
}

/** The innermost error with a `code` (undici wraps socket errors in `cause`). */
function rootCause(err: unknown): NodeishError {
  let cur = err as NodeishError | undefined;
  for (let i = 0; i < 5 && cur !== undefined; i++) {
    if (
      typeof cur.code === 'string' &&
      cur.code !== 'UND_ERR_SOCKET' &&
      !/^UND_ERR_(ABORTED)$/.test(cur.code)
    )
      return cur;
    if (cur.cause === undefined || typeof cur.cause !== 'object') break;
    cur = cur.cause as NodeishError;
  }
  return (err ?? {}) as NodeishError;
}

/** A cause safe to keep: name, code and a scrubbed message, no request objects or URLs with keys. */
function safeCause(err: NodeishError, apiKey: string): Error {
  const e = new Error(redactSecrets(String(err.message ?? ''), apiKey));
  e.name = String(err.name ?? 'Error');
  if (typeof err.code === 'string') (e as Error & { code?: string }).code = err.code;
  e.stack = `${e.name}: ${e.message}`;
  return e;
}

/** Context needed to word a network error. */
export interface NetworkErrorContext {
  /** Host of the iSAMS server. */
  host: string;
  /** The egress proxy, if any (`host:port`, no credentials). */
  proxy?: { host: string; port: number };
  apiKey: string;
  phase: 'connect' | 'response' | 'body';
  /** The time-out of the whole exchange, to name it when it fires while the body streams. */
  totalTimeoutMs?: number;
}

/**
 * A response undici could not take as HTTP — not the connection reset, and not worth a retry: the
 * same server answers the same way.
 */
function unreadableResponse(
  code: string,
  host: string,
  details: Record<string, unknown>,
  cause: Error,
  parserError: NodeishError | undefined,
): IsamsError | undefined {
  // Bytes llhttp cannot read as an HTTP response (a status line, a header or a chunk size): undici
  // sets no code on these (its HPE_ table is looked up the wrong way round), so they go by name.
  if (parserError !== undefined) {
    const reason = /\(([^()]*)\)\s*$/.exec(String(parserError.message ?? ''))?.[1];
    return new IsamsError({
      code: 'ISAMS_MALFORMED_DOCUMENT',
      message: `The response from ${host} could not be read as HTTP (${boundText(reason || code || 'HTTPParserError', 100)}).`,
      details: { ...details, errorCode: code || 'HTTPParserError' },
      cause,
      adminAction: NOT_HTTP_ACTION,
    });
  }
  // A response head over undici's 16 KB limit (Node's default).
  if (code === 'UND_ERR_HEADERS_OVERFLOW') {
    return new IsamsError({
      code: 'ISAMS_RESPONSE_HEADERS_TOO_LARGE',
      message: `The response headers from ${host} are larger than the 16 KB SchoolCloud reads (${code}).`,
      details,
      cause,
    });
  }
  // A body whose length contradicts its Content-Length (a chunked body that also declares one).
  if (code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') {
    return new IsamsError({
      code: 'ISAMS_MALFORMED_DOCUMENT',
      message: `The response from ${host} has a body whose length does not match its Content-Length header (${code}).`,
      details,
      cause,
      adminAction: CONTENT_LENGTH_MISMATCH_ACTION,
    });
  }
  return undefined;
}

/** Classifies an error thrown by undici or the socket layer. */
export function classifyNetworkError(err: unknown, ctx: NetworkErrorContext): IsamsError {
  // Our own refusals (the egress guard's lookup) may come back wrapped by the socket layer.
  for (let cur: unknown = err, i = 0; i < 5 && cur !== null && typeof cur === 'object'; i++) {
    if (cur instanceof IsamsError) return cur;
    cur = (cur as { cause?: unknown }).cause;
  }
  const top = (err ?? {}) as NodeishError;
  const root = rootCause(err);
  const code = [root.code, top.code].find((c): c is string => typeof c === 'string') ?? '';
  const message = String(top.message ?? '');
  const cause = safeCause(root, ctx.apiKey);
  const details = {
    host: ctx.host,
    errorCode: code,
    phase: ctx.phase,
    ...(ctx.proxy ? { proxy: `${ctx.proxy.host}:${ctx.proxy.port}` } : {}),
  };
  const viaProxy =
    ctx.proxy !== undefined &&
    (/proxy/i.test(message) ||
      /proxy/i.test(String(root.message ?? '')) ||
      (root.port === ctx.proxy.port && (root.address !== undefined || root.hostname !== undefined)) ||
      root.hostname === ctx.proxy.host);
  if (viaProxy) {
    return new IsamsError({
      code: 'ISAMS_PROXY_ERROR',
      message: `The egress proxy ${ctx.proxy!.host}:${ctx.proxy!.port} failed (${code || redactSecrets(message, ctx.apiKey)}).`,
      details,
      cause,
    });
  }
  if (top.name === 'TimeoutError' && ctx.totalTimeoutMs !== undefined) {
    return new IsamsError({
      code: 'ISAMS_TIMEOUT',
      message: `The request to ${ctx.host} took longer than ${ctx.totalTimeoutMs} ms.`,
      details: { ...details, totalTimeoutMs: ctx.totalTimeoutMs },
      cause,
    });
  }
  if (
    code === 'UND_ERR_CONNECT_TIMEOUT' ||
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'ETIMEDOUT' ||
    top.name === 'TimeoutError'
  ) {
    const what =
      code === 'UND_ERR_CONNECT_TIMEOUT'
        ? 'connecting to'
        : code === 'UND_ERR_BODY_TIMEOUT'
          ? 'waiting for more data from'
          : 'waiting for';
    return new IsamsError({
      code: 'ISAMS_TIMEOUT',
      message: `Timed out ${what} ${ctx.host} (${code || top.name}).`,
      details,
      cause,
      // Not iSAMS's generation limit: no smaller request helps (the connector does not split for it).
      ...(code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT'
        ? {
            adminAction:
              'SchoolCloud could not connect to the iSAMS host in time. It retries automatically; if this persists, check the host name configured for the school and that the iSAMS server is reachable (IP restrictions that drop our requests look like this).',
          }
        : {}),
    });
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') {
    return new IsamsError({
      code: 'ISAMS_DNS',
      message: `The iSAMS host name ${ctx.host} could not be resolved (${code}).`,
      details,
      cause,
      transient: code === 'EAI_AGAIN',
    });
  }
  if (code === 'ECONNREFUSED') {
    return new IsamsError({
      code: 'ISAMS_CONNECTION_REFUSED',
      message: `${ctx.host} refused the connection.`,
      details,
      cause,
    });
  }
  const parserError = [top, root].find((e) => e.name === 'HTTPParserError' || /^HPE_/.test(String(e.code)));
  const unreadable = unreadableResponse(code, ctx.host, details, cause, parserError);
  if (unreadable !== undefined) return unreadable;
  if (
    TLS_CODES.has(code) ||
    code.startsWith('ERR_TLS') ||
    code.startsWith('ERR_SSL') ||
    /certificate|ssl|tls/i.test(String(root.message ?? ''))
  ) {
    return new IsamsError({
      code: 'ISAMS_TLS',
      message: `The TLS connection to ${ctx.host} failed (${code || 'TLS error'}).`,
      details,
      cause,
      ...(INCOMPLETE_CHAIN_CODES.has(code) ? { adminAction: INCOMPLETE_CHAIN_ACTION } : {}),
    });
  }
  // The peer closed (FIN, no error of its own) before the body was complete: the document is cut
  // short, not the connection reset.
  if (ctx.phase === 'body' && code === 'UND_ERR_SOCKET') {
    return new IsamsError({
      code: 'ISAMS_TRUNCATED_DOCUMENT',
      message: `${ctx.host} closed the connection before the whole document arrived.`,
      details,
      cause,
    });
  }
  if (
    code === 'ECONNRESET' ||
    code === 'EPIPE' ||
    code === 'UND_ERR_SOCKET' ||
    code === 'UND_ERR_CLOSED' ||
    top.code === 'UND_ERR_SOCKET'
  ) {
    return new IsamsError({
      code: 'ISAMS_CONNECTION_RESET',
      message: `The connection to ${ctx.host} was reset (${code}).`,
      details,
      cause,
    });
  }
  if (ctx.phase === 'body') {
    return new IsamsError({
      code: 'ISAMS_TRUNCATED_DOCUMENT',
      message: `Reading the document from ${ctx.host} failed (${code || top.name}).`,
      details,
      cause,
    });
  }
  return new IsamsError({
    code: 'ISAMS_CONNECTION_RESET',
    message: `The request to ${ctx.host} failed (${code || top.name || 'network error'}).`,
    details,
    cause,
  });
}
