import { IsamsError } from '../errors/isams-error';
import { redactSecrets } from '../errors/redact';

/** Redirects followed for one request at most (all within the iSAMS host). */
export const MAX_REDIRECTS = 3;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** True for the statuses that redirect (with a `Location`). */
export function isRedirectStatus(status: number): boolean {
  return REDIRECT_STATUSES.has(status);
}

/** Follow `to`, or refuse with the error to report. */
export type RedirectDecision = { follow: URL } | { refuse: IsamsError };

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443' };
const portOf = (u: URL): string => u.port || DEFAULT_PORTS[u.protocol] || '';

/**
 * The address an admin would enter for `target`: scheme, host and port, plus any path before
 * `/api/batch/` — never a query, user name or password (and never the key).
 */
export function redirectAddress(target: URL, apiKey: string): string {
  const prefix = /^(.*?)\/api\/batch\//i.exec(target.pathname)?.[1] ?? '';
  return redactSecrets(`${target.protocol}//${target.host}${prefix}`, apiKey);
}

/**
 * Whether to follow a redirect from `from` (the URL just requested, key included) to `location`.
 * The key travels in the URL and is bound to the host the admin entered, so a redirect is followed
 * only within that host: the same scheme, host name and port, or the upgrade of http to https on
 * the same host name; at most {@link MAX_REDIRECTS} times. Anything else — another host, another
 * port, https to http, a missing or unreadable `Location` — is refused with `ISAMS_REDIRECTED`,
 * whose admin action names the address iSAMS redirects to (without the key).
 */
export function decideRedirect(
  from: URL,
  status: number,
  location: string | undefined,
  hopsSoFar: number,
  apiKey: string,
): RedirectDecision {
  const refuse = (message: string, adminAction?: string, details: Record<string, unknown> = {}) => ({
    refuse: new IsamsError({
      code: 'ISAMS_REDIRECTED',
      message: redactSecrets(message, apiKey),
      details: { httpStatus: status, host: from.host, ...details },
      ...(adminAction === undefined ? {} : { adminAction: redactSecrets(adminAction, apiKey) }),
    }),
  });
  const unusable = () => refuse(`${from.host} answered HTTP ${status} without a usable redirect address.`);
  if (location === undefined || location.trim() === '') return unusable();
  let to: URL;
  try {
    to = new URL(location, from);
  } catch {
    return unusable();
  }
  const address = redirectAddress(to, apiKey);
  const sameHostName = to.hostname.toLowerCase() === from.hostname.toLowerCase();
  const sameOrigin = sameHostName && to.protocol === from.protocol && portOf(to) === portOf(from);
  const upgrade = sameHostName && from.protocol === 'http:' && to.protocol === 'https:';
  if (!sameOrigin && !upgrade) {
    if (sameHostName && from.protocol === 'https:' && to.protocol === 'http:') {
      return refuse(
        `${from.host} redirects to the unencrypted address ${address}; the key is never sent without encryption.`,
        `iSAMS redirects from https to the unencrypted address ${address}. SchoolCloud never sends the Batch API key without encryption: ask whoever runs the iSAMS server to serve the Batch API over https at ${redirectAddress(from, apiKey)}.`,
        { redirectsTo: address },
      );
    }
    return refuse(
      `${from.host} redirects to another address (${address}); the key is only sent to the address entered.`,
      `iSAMS redirects to ${address}. SchoolCloud sends the Batch API key only to the address entered and never follows a redirect to another one: if ${address} is the school's iSAMS address, enter it as the iSAMS web address in SchoolCloud (Settings › Data Input Source) and save; otherwise ask whoever runs the iSAMS server to remove the redirect.`,
      { redirectsTo: address },
    );
  }
  if (hopsSoFar >= MAX_REDIRECTS) {
    return refuse(
      `${from.host} redirected more than ${MAX_REDIRECTS} times (last to ${address}).`,
      undefined,
      {
        redirectsTo: address,
      },
    );
  }
  return { follow: to };
}
