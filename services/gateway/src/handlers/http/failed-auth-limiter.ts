import type { FastifyRequest } from 'fastify';
import { GatewayErrors } from '../../domain/gateway-errors';

/** Counts failed authentications per client IP in fixed windows. */
export interface FailedAuthLimiter {
  /** Throws 429 when this IP has failed too often in the current window. */
  check(request: FastifyRequest): void;
  /** Records a failed authentication of this IP. */
  fail(request: FastifyRequest): void;
}

/**
 * The general rate limit is keyed by credential, so a caller guessing tokens would get a fresh
 * bucket per guess; this bounds failed attempts per IP instead. In-memory per replica (good enough
 * against guessing 256-bit tokens; the ingress should rate-limit too).
 */
export function createFailedAuthLimiter(options: {
  max: number;
  windowMs: number;
  now?: () => number;
}): FailedAuthLimiter {
  const now = options.now ?? Date.now;
  const windows = new Map<string, { start: number; count: number }>();
  const current = (ip: string) => {
    const t = now();
    let w = windows.get(ip);
    if (w === undefined || t - w.start >= options.windowMs) {
      w = { start: t, count: 0 };
      windows.set(ip, w);
      // Drop expired windows now and then so the map cannot grow without bound.
      if (windows.size > 10_000)
        for (const [k, v] of windows) if (t - v.start >= options.windowMs) windows.delete(k);
    }
    return w;
  };
  return {
    check(request) {
      const w = current(request.ip);
      if (w.count >= options.max) {
        const retryAfterSeconds = Math.max(1, Math.ceil((w.start + options.windowMs - now()) / 1000));
        throw GatewayErrors.GATEWAY_RATE_LIMITED({ retryAfterSeconds });
      }
    },
    fail(request) {
      current(request.ip).count += 1;
    },
  };
}
