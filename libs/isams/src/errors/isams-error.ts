import { AppError } from '@isams-sync/errors';
import type { ErrorKind } from '@isams-sync/errors';
import { boundDetails, boundText } from './bound-text';

/** Every stable error code the iSAMS client and parser throw. */
export const ISAMS_ERROR_CODES = [
  'ISAMS_INVALID_KEY',
  'ISAMS_METHODS_NOT_ALLOCATED',
  'ISAMS_IP_NOT_ALLOWED',
  'ISAMS_THROTTLED',
  'ISAMS_TIMEOUT',
  'ISAMS_SERVER_BUSY',
  'ISAMS_ERROR_DOCUMENT',
  'ISAMS_MALFORMED_DOCUMENT',
  'ISAMS_TRUNCATED_DOCUMENT',
  'ISAMS_RESPONSE_TOO_LARGE',
  'ISAMS_RESPONSE_HEADERS_TOO_LARGE',
  'ISAMS_DOCUMENT_TOO_DEEP',
  'ISAMS_RECORD_TOO_LARGE',
  'ISAMS_TOO_MANY_RECORDS',
  'ISAMS_TLS',
  'ISAMS_DNS',
  'ISAMS_CONNECTION_REFUSED',
  'ISAMS_CONNECTION_RESET',
  'ISAMS_HTTP_ERROR',
  'ISAMS_PROXY_ERROR',
  'ISAMS_REDIRECTED',
  'ISAMS_ADDRESS_NOT_ALLOWED',
] as const;

/** A stable iSAMS error code. */
export type IsamsErrorCode = (typeof ISAMS_ERROR_CODES)[number];

/** Static facts about one error code: its kind, whether retrying can help, what to do about it. */
export interface IsamsErrorSpec {
  readonly kind: ErrorKind;
  /** Whether the same request may succeed later without anybody changing anything. */
  readonly transient: boolean;
  /** What the school's iSAMS administrator (or our operator) must change. */
  readonly adminAction: string;
}

const KEYS_PAGE = 'iSAMS Control Panel › API Services Manager › Manage Batch API Keys';

/** The catalogue behind {@link IsamsError}: kind, transient flag and admin action per code. */
export const ISAMS_ERRORS: Readonly<Record<IsamsErrorCode, IsamsErrorSpec>> = {
  ISAMS_INVALID_KEY: {
    kind: 'failed_precondition',
    transient: false,
    adminAction: `In ${KEYS_PAGE}, check that the key exists, its API Key State is Active, and that the key entered in SchoolCloud is exactly the key shown there.`,
  },
  ISAMS_METHODS_NOT_ALLOCATED: {
    kind: 'failed_precondition',
    transient: false,
    adminAction: `In ${KEYS_PAGE}, open the key's Batch Methods tab and tick the datasets listed in this error, then save the key.`,
  },
  ISAMS_IP_NOT_ALLOWED: {
    kind: 'failed_precondition',
    transient: false,
    adminAction:
      "In iSAMS Control Panel › API Services Manager › Manage API Service Security › IP Restrictions (and the key's own IP restrictions), allow the SchoolCloud egress IP addresses.",
  },
  ISAMS_THROTTLED: {
    kind: 'resource_exhausted',
    transient: true,
    adminAction:
      "In iSAMS Control Panel › API Services Manager › Manage API Service Settings (or the key's Key Throttling tab), raise the request limit for this key, or wait for the throttling period to pass.",
  },
  ISAMS_TIMEOUT: {
    kind: 'deadline_exceeded',
    transient: true,
    adminAction:
      'iSAMS took longer than its ~35 s limit to generate the document (or did not answer in time). SchoolCloud now fetches the data in smaller method groups and retries automatically; nothing to do unless this persists for a day, then contact iSAMS support about the load on the iSAMS server.',
  },
  ISAMS_SERVER_BUSY: {
    kind: 'unavailable',
    transient: true,
    adminAction:
      'iSAMS hit a database deadlock or lock time-out while generating the document; this normally clears by itself. SchoolCloud retries automatically and, if it keeps happening, fetches the data in smaller method groups; nothing to do unless this persists for a day, then contact iSAMS support about the load on the iSAMS server.',
  },
  ISAMS_ERROR_DOCUMENT: {
    kind: 'failed_precondition',
    transient: false,
    adminAction: `iSAMS returned an error (see its title and description). Check the key's settings in ${KEYS_PAGE}; contact iSAMS support if the description names an internal error.`,
  },
  ISAMS_MALFORMED_DOCUMENT: {
    kind: 'invalid_argument',
    transient: false,
    adminAction:
      'The response is not a well-formed iSAMS Batch API document. Check that the host name points at the iSAMS server (not a login page or a proxy error page).',
  },
  ISAMS_TRUNCATED_DOCUMENT: {
    kind: 'unavailable',
    transient: true,
    adminAction:
      'The document ended early (connection dropped, server stopped, or a saved file was cut off). Fetch it again; if it keeps happening, check the network path to iSAMS and the response-size limits of any proxy.',
  },
  ISAMS_RESPONSE_TOO_LARGE: {
    kind: 'resource_exhausted',
    transient: false,
    adminAction:
      "The document iSAMS sent is larger than SchoolCloud's response-size limit. SchoolCloud fetches the data in smaller method groups automatically, so each response is smaller; nothing to change in iSAMS. If a single dataset alone is over the limit, contact SchoolCloud support (the limit is ours).",
  },
  ISAMS_RESPONSE_HEADERS_TOO_LARGE: {
    kind: 'failed_precondition',
    transient: false,
    adminAction:
      'The iSAMS server (or a proxy or load balancer in front of it) sent response headers larger than the 16 KB SchoolCloud reads — usually a very large cookie or a header repeated many times — so SchoolCloud did not read the document and changed nothing. Ask whoever runs the iSAMS server or the proxy to remove or shorten the oversized header; nothing in the Batch API key needs to change.',
  },
  ISAMS_DOCUMENT_TOO_DEEP: {
    kind: 'invalid_argument',
    transient: false,
    adminAction:
      'The document nests elements deeper than any iSAMS Batch API document does, so SchoolCloud stopped reading it and changed nothing. Check that the host name points at the iSAMS server; if it does, contact SchoolCloud support (the limit is ours and configurable).',
  },
  ISAMS_RECORD_TOO_LARGE: {
    kind: 'invalid_argument',
    transient: false,
    adminAction:
      'One record (or one value) of the document is larger than any real iSAMS record, so SchoolCloud stopped reading it and changed nothing. Check that the host name points at the iSAMS server; if it does, contact SchoolCloud support (the limit is ours and configurable).',
  },
  ISAMS_TOO_MANY_RECORDS: {
    kind: 'invalid_argument',
    transient: false,
    adminAction:
      'The document has more records than any school has, so SchoolCloud stopped reading it and changed nothing. Check that the host name points at the iSAMS server; if it does, contact SchoolCloud support (the limit is ours and configurable).',
  },
  ISAMS_TLS: {
    kind: 'failed_precondition',
    transient: false,
    adminAction:
      "The iSAMS server's TLS certificate could not be verified (expired, self-signed or wrong host name). Ask the school's IT to install a valid certificate for the iSAMS host.",
  },
  ISAMS_DNS: {
    kind: 'failed_precondition',
    transient: false,
    adminAction: 'The iSAMS host name does not resolve. Check the host name configured for the school.',
  },
  ISAMS_CONNECTION_REFUSED: {
    kind: 'unavailable',
    transient: true,
    adminAction:
      'The iSAMS server refused the connection. Check the host name and port, and that the server is reachable from the internet.',
  },
  ISAMS_CONNECTION_RESET: {
    kind: 'unavailable',
    transient: true,
    adminAction:
      'The connection to iSAMS was reset. It is retried automatically; if it persists, check firewalls between us and iSAMS.',
  },
  ISAMS_HTTP_ERROR: {
    kind: 'unavailable',
    transient: false,
    adminAction:
      'iSAMS answered with an unexpected HTTP status. Check the host name and that the Batch API is enabled.',
  },
  ISAMS_PROXY_ERROR: {
    kind: 'unavailable',
    transient: true,
    adminAction:
      "The egress proxy could not be reached or refused the request. Check the proxy URL and that the proxy is running (this is our side, not the school's).",
  },
  ISAMS_REDIRECTED: {
    kind: 'failed_precondition',
    transient: false,
    adminAction:
      'iSAMS answered with a redirect SchoolCloud does not follow (to another address, or too many times). The Batch API key is only ever sent to the iSAMS web address entered in SchoolCloud: enter the address iSAMS redirects to (named in this error) as that address, or ask whoever runs the iSAMS server to remove the redirect.',
  },
  ISAMS_ADDRESS_NOT_ALLOWED: {
    kind: 'invalid_argument',
    transient: false,
    adminAction:
      "Enter the school's public iSAMS web address over https (for example https://<school>.isams.cloud). SchoolCloud does not connect to private, internal or local network addresses, nor to host names that resolve to them.",
  },
};

/** Constructor options of {@link IsamsError}. */
export interface IsamsErrorOptions {
  code: IsamsErrorCode;
  message: string;
  details?: Record<string, unknown>;
  cause?: unknown;
  /** Overrides the catalogue's `transient` (e.g. an HTTP 5xx classified as ISAMS_HTTP_ERROR). */
  transient?: boolean;
  /** Overrides the catalogue's admin action (e.g. naming the datasets to tick). */
  adminAction?: string;
}

/** Longest message an {@link IsamsError} keeps (our wording plus bounded server text). */
const MESSAGE_MAX_CHARS = 2000;

/**
 * An error from talking to iSAMS or reading its document: a stable code, whether retrying can
 * help, and what the administrator must change. Messages and details never contain the API key.
 * Text from the server is bounded here, whatever path it came by: the message is cut at 2,000
 * characters and every string detail at 500, control characters removed ({@link boundText}).
 */
export class IsamsError extends AppError {
  /** Override of the code type for exhaustive switches. */
  declare readonly code: IsamsErrorCode;
  /** Whether the same request may succeed later. */
  readonly transient: boolean;
  /** What must change, in the words an iSAMS administrator understands. */
  readonly adminAction: string;

  constructor(options: IsamsErrorOptions) {
    const spec = ISAMS_ERRORS[options.code];
    super({
      code: options.code,
      kind: spec.kind,
      message: boundText(options.message, MESSAGE_MAX_CHARS),
      ...(options.details === undefined ? {} : { details: boundDetails(options.details) }),
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
    this.transient = options.transient ?? spec.transient;
    this.adminAction = boundText(options.adminAction ?? spec.adminAction, MESSAGE_MAX_CHARS);
  }
}

/** True when `e` is an {@link IsamsError}. */
export function isIsamsError(e: unknown): e is IsamsError {
  return e instanceof IsamsError;
}
