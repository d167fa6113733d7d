import { AppError, defineErrors, isAppError } from '@isams-sync/errors';

/** The gateway's error catalogue; the HTTP status follows the kind (see `@isams-sync/errors`). */
export const GatewayErrors = defineErrors({
  GATEWAY_UNAUTHENTICATED: {
    kind: 'unauthenticated',
    message: 'A valid bearer token is required (Authorization: Bearer <token>)',
  },
  GATEWAY_TOKEN_INVALID: { kind: 'unauthenticated', message: 'The token is not valid' },
  GATEWAY_OPERATOR_ONLY: {
    kind: 'permission_denied',
    message: 'This operation needs the platform-operator token',
  },
  GATEWAY_NOT_FOUND: {
    kind: 'not_found',
    message: (d: { resource: string }) => `${d.resource} not found`,
  },
  GATEWAY_ROUTE_NOT_FOUND: {
    kind: 'not_found',
    message: (d: { method: string; url: string }) => `No route ${d.method} ${d.url}`,
  },
  GATEWAY_VALIDATION_FAILED: {
    kind: 'invalid_argument',
    message: 'The request is not valid; see details.issues',
  },
  GATEWAY_METHOD_NOT_ALLOWED: {
    kind: 'invalid_argument',
    message: (d: { method: string; allowed: string[] }) =>
      `Method ${d.method} is not allowed here; use ${d.allowed.join(', ')}`,
  },
  GATEWAY_BAD_REQUEST: {
    kind: 'invalid_argument',
    message: 'The request is not valid HTTP for this route',
  },
  /** Refused by the HTTP parser itself (e.g. `Content-Length` with `Transfer-Encoding`): no route saw it. */
  GATEWAY_MALFORMED_REQUEST: {
    kind: 'invalid_argument',
    message: 'The request is not valid HTTP (request line, headers or message framing)',
  },
  GATEWAY_HEADERS_TOO_LARGE: {
    kind: 'invalid_argument',
    message: 'The request headers exceed the size limit',
  },
  GATEWAY_REQUEST_TIMEOUT: {
    kind: 'deadline_exceeded',
    message: 'The request did not arrive in time',
  },
  GATEWAY_MALFORMED_BODY: { kind: 'invalid_argument', message: 'The request body is not valid JSON' },
  GATEWAY_BODY_TOO_LARGE: {
    kind: 'invalid_argument',
    message: (d: { limitBytes: number }) => `The request body exceeds ${d.limitBytes} bytes`,
  },
  GATEWAY_UNSUPPORTED_MEDIA_TYPE: {
    kind: 'invalid_argument',
    message: 'Send request bodies as application/json',
  },
  GATEWAY_RATE_LIMITED: {
    kind: 'resource_exhausted',
    message: (d: { retryAfterSeconds: number }) => `Too many requests; retry after ${d.retryAfterSeconds} s`,
  },
  GATEWAY_STREAM_LIMIT: {
    kind: 'resource_exhausted',
    message: (d: { limit: 'overall' | 'school' | 'credential' }) =>
      d.limit === 'credential'
        ? 'Too many live-progress streams are open for this credential; close one or poll instead'
        : d.limit === 'school'
          ? 'Too many live-progress streams are open for this school; close one or poll instead'
          : 'Too many live-progress streams are open; poll the run instead',
  },
  GATEWAY_STREAM_EXPIRED: {
    kind: 'deadline_exceeded',
    message: 'The live-progress stream reached its maximum lifetime; open it again',
  },
  /**
   * A settings save the connector stored whose time zone bookings did not take (unreachable, too slow,
   * or refused): the two disagree until the same save is sent again.
   */
  GATEWAY_TIME_ZONE_NOT_APPLIED: {
    kind: 'unavailable',
    message:
      'The settings were saved, but the bookings service did not take the new time zone; save the same settings again',
  },
  /** This replica is stopping: its live-progress streams end with this, and new ones are refused. */
  GATEWAY_SHUTTING_DOWN: {
    kind: 'unavailable',
    message: 'This gateway is shutting down; open the live-progress stream again (another gateway answers)',
  },
  GATEWAY_TOKEN_NOT_FOUND: { kind: 'not_found', message: 'Token not found' },
  GATEWAY_LIVE_EVENT_CONFIRMATION_REQUIRED: {
    kind: 'failed_precondition',
    message: (d: { events: Array<{ id: string; title: string }> }) =>
      `An event is live (${d.events.map((e) => e.title).join(', ')}): bookings of removed teachers or students will be cancelled. Confirm to run anyway.`,
  },
  GATEWAY_UPSTREAM_UNAVAILABLE: {
    kind: 'unavailable',
    message: (d: { upstream: string }) => `The ${d.upstream} service is not reachable; try again shortly`,
  },
  GATEWAY_UPSTREAM_TIMEOUT: {
    kind: 'deadline_exceeded',
    message: (d: { upstream: string }) => `The ${d.upstream} service did not answer in time`,
  },
  /** The upstream refused the gateway's service identity: keys or allow-lists are misconfigured. */
  GATEWAY_UPSTREAM_IDENTITY_REFUSED: {
    kind: 'internal',
    message: (d: { upstream: string; upstreamCode: string }) =>
      `The ${d.upstream} service refused the gateway's service identity (${d.upstreamCode})`,
  },
  GATEWAY_UPSTREAM_RESPONSE_INVALID: {
    kind: 'internal',
    message: (d: { upstream: string }) => `Unexpected response from ${d.upstream}`,
  },
});

/**
 * A database error (libs/mongo's `MONGO_*`: the gateway's own store, or an upstream's passed on) as
 * the admin sees it: away → `GATEWAY_UPSTREAM_UNAVAILABLE`, too slow → `GATEWAY_UPSTREAM_TIMEOUT`,
 * anything else → internal; never the library's code with its collection and driver names.
 * `undefined` for any other error.
 */
export function fromDatabaseError(err: unknown, upstream: string): AppError | undefined {
  if (!isAppError(err) || !err.code.startsWith('MONGO_')) return undefined;
  if (err.kind === 'unavailable')
    return GatewayErrors.GATEWAY_UPSTREAM_UNAVAILABLE({ upstream }, { cause: err });
  if (err.kind === 'deadline_exceeded')
    return GatewayErrors.GATEWAY_UPSTREAM_TIMEOUT({ upstream }, { cause: err });
  return internalError(err);
}

/** An internal error as the edge sends it (`INTERNAL`, nothing else revealed), keeping its cause for the log. */
export function internalError(cause: unknown): AppError {
  return new AppError({ code: 'INTERNAL', kind: 'internal', message: 'Internal error', cause });
}
