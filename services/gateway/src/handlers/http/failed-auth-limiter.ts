import { isIPv6 } from 'node:net';

/** Counts failed authentications per client address in fixed windows, in bounded memory. */
export interface FailedAuthLimiter {
  /** When this address has failed too often in its current window: how long until it may retry. */
  blocked(address: string): { retryAfterSeconds: number } | undefined;
  /** Records a failed authentication from this address. */
  fail(address: string): void;
  /** Addresses currently remembered (at most `maxTracked`). */
  size(): number;
}

/** How many of the oldest entries are looked at for one that is not blocked before evicting. */
const EVICTION_SCAN = 64;

/**
 * The key of a client address: an IPv6 address counts as its /64 (one host or customer can use
 * any address in it), an IPv4 address as itself.
 */
export function addressKey(address: string): string {
  if (!isIPv6(address)) return address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  const [head = '', tail = ''] = address.toLowerCase().split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::')
    ? [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups]
    : headGroups;
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

/**
 * The general rate limit is keyed by credential, so a caller guessing tokens would get a fresh
 * bucket per guess; this bounds failed attempts per client address instead. It only ever decides
 * about credentials that failed: a valid credential is never refused because its address is
 * blocked (many admins share one school NAT). In memory per replica, at most `maxTracked`
 * addresses: expired windows go first, then the oldest address that is not blocked.
 */
export function createFailedAuthLimiter(options: {
  max: number;
  windowMs: number;
  maxTracked: number;
  now?: () => number;
}): FailedAuthLimiter {
  const now = options.now ?? Date.now;
  // Insertion order = order of each address's window start (a new window re-inserts the entry).
  const windows = new Map<string, { start: number; count: number }>();
  const live = (key: string, t: number) => {
    const w = windows.get(key);
    if (w !== undefined && t - w.start >= options.windowMs) {
      windows.delete(key);
      return undefined;
    }
    return w;
  };
  const makeRoom = (t: number) => {
    for (const [k, v] of windows) {
      if (t - v.start < options.windowMs) break;
      windows.delete(k);
    }
    if (windows.size < options.maxTracked) return;
    let scanned = 0;
    for (const [k, v] of windows) {
      if (v.count < options.max) {
        windows.delete(k);
        return;
      }
      if (++scanned >= EVICTION_SCAN) break;
    }
    const oldest = windows.keys().next();
    if (!oldest.done) windows.delete(oldest.value);
  };
  return {
    blocked(address) {
      const t = now();
      const w = live(addressKey(address), t);
      if (w === undefined || w.count < options.max) return undefined;
      return { retryAfterSeconds: Math.max(1, Math.ceil((w.start + options.windowMs - t) / 1000)) };
    },
    fail(address) {
      const t = now();
      const key = addressKey(address);
      const w = live(key, t);
      if (w !== undefined) {
        w.count += 1;
        return;
      }
      makeRoom(t);
      windows.set(key, { start: t, count: 1 });
    },
    size: () => windows.size,
  };
}
