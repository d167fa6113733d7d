/** Pure request-policy decisions: key matching, IP allow-lists, throttling, cache freshness. */

/** Canonical key form: braces and whitespace stripped, upper-case (keys match case-insensitively). */
export function normaliseApiKey(raw: string): string {
  return raw.trim().replace(/^\{/, '').replace(/\}$/, '').trim().toUpperCase();
}

function ipv4ToInt(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    value = value * 256 + Number(p);
  }
  return value;
}

/** Strips the IPv4-mapped IPv6 prefix (`::ffff:127.0.0.1` → `127.0.0.1`). */
export function normaliseIp(ip: string): string {
  const trimmed = ip.trim();
  return trimmed.toLowerCase().startsWith('::ffff:') && trimmed.includes('.')
    ? trimmed.slice(7)
    : trimmed.toLowerCase();
}

/** An IPv6 address in its canonical (RFC 5952, WHATWG URL) form, or undefined if it is not one. */
function canonicalIpv6(text: string): string | undefined {
  if (!text.includes(':') || !/^[0-9a-f:.]+$/i.test(text)) return undefined;
  try {
    return new URL(`http://[${text}]`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
}

/**
 * An allow-list entry in the form {@link ipAllowed} compares (an IPv4 or IPv6 address, IPv4-mapped
 * IPv6 as IPv4, or an IPv4 CIDR range), or undefined for an entry that could never match: not an
 * address, an IPv6 range (not supported), a prefix length outside 0–32.
 */
export function allowListEntry(text: string): string | undefined {
  const [base = '', bits, ...rest] = text.trim().split('/');
  if (rest.length > 0) return undefined;
  const ip = normaliseIp(base);
  if (bits !== undefined)
    return ipv4ToInt(ip) !== undefined && /^\d{1,2}$/.test(bits) && Number(bits) <= 32
      ? `${ip}/${Number(bits)}`
      : undefined;
  return ipv4ToInt(ip) !== undefined ? ip : canonicalIpv6(ip);
}

/** True when `ip` matches one entry (exact IP or IPv4 CIDR range); an empty list allows everyone. */
export function ipAllowed(ip: string, allowList: readonly string[]): boolean {
  if (allowList.length === 0) return true;
  const caller = normaliseIp(ip);
  const callerInt = ipv4ToInt(caller);
  return allowList.some((entry) => {
    const [base, bitsText] = entry.trim().split('/');
    if (bitsText === undefined) return normaliseIp(base ?? '') === caller;
    const baseInt = ipv4ToInt(base ?? '');
    const bits = Number(bitsText);
    if (baseInt === undefined || callerInt === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32)
      return false;
    if (bits === 0) return true;
    const mask = (0xffffffff << (32 - bits)) >>> 0;
    return (baseInt & mask) >>> 0 === (callerInt & mask) >>> 0;
  });
}

/** Caller address: the socket's, or the left-most X-Forwarded-For entry when a proxy is trusted. */
export function callerAddress(
  socketIp: string,
  forwardedFor: string | undefined,
  trustProxy: boolean,
): string {
  if (trustProxy && forwardedFor) {
    const first = forwardedFor.split(',')[0]?.trim();
    if (first) return normaliseIp(first);
  }
  return normaliseIp(socketIp);
}

export interface ThrottleSettings {
  limit: number;
  windowMs: number;
}

export interface ThrottleState {
  windowStart: number;
  count: number;
}

/** Fixed-window per-key throttle: counts this request and says whether it is within the limit. */
export function throttleDecision(
  state: ThrottleState,
  settings: ThrottleSettings | undefined,
  now: number,
): { allowed: boolean; state: ThrottleState } {
  if (!settings) return { allowed: true, state };
  const fresh = now - state.windowStart >= settings.windowMs ? { windowStart: now, count: 0 } : state;
  const next = { windowStart: fresh.windowStart, count: fresh.count + 1 };
  return { allowed: next.count <= settings.limit, state: next };
}

/** Human period for the throttle message, e.g. `1 hour`, `60 seconds`. */
export function describeWindow(windowMs: number): string {
  if (windowMs % 3_600_000 === 0) return windowMs === 3_600_000 ? '1 hour' : `${windowMs / 3_600_000} hours`;
  if (windowMs % 60_000 === 0) return windowMs === 60_000 ? '1 minute' : `${windowMs / 60_000} minutes`;
  return `${Math.max(1, Math.round(windowMs / 1000))} seconds`;
}

export type CacheKeying = 'key+methods' | 'key';

/**
 * Cache entry key.
 * ASSUMED ([U] in reference §1.6): by default (key, normalised MethodsToRun) gets
 * its own entry and XML/JSON share it; `cacheKeying: 'key'` makes all bodies share one entry.
 */
export function cacheKeyFor(
  apiKey: string,
  methods: readonly string[] | undefined,
  keying: CacheKeying,
): string {
  if (keying === 'key' || !methods) return `${apiKey}|*`;
  return `${apiKey}|${[...new Set(methods.map((m) => m.toLowerCase()))].sort().join(',')}`;
}

/** Whether a cached copy made at `createdAt` is still served at `now`. */
export function cacheFresh(createdAt: number, now: number, expiryMs: number): boolean {
  return now - createdAt < expiryMs;
}
