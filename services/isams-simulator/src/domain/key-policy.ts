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
