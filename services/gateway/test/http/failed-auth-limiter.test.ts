import { describe, expect, it } from 'vitest';
import { createFailedAuthLimiter } from '../../src/handlers/http/failed-auth-limiter';

describe('failed-auth limiter state', () => {
  it('keeps at most maxTracked addresses however many distinct addresses fail', () => {
    let t = 0;
    const limiter = createFailedAuthLimiter({ max: 3, windowMs: 60_000, maxTracked: 100, now: () => t });
    for (let i = 0; i < 5_000; i++) {
      limiter.fail(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
      t += 1;
    }
    expect(limiter.size()).toBeLessThanOrEqual(100);
  });

  it('blocks an address after max failures in its window, and forgets it when the window ends', () => {
    let t = 0;
    const limiter = createFailedAuthLimiter({ max: 3, windowMs: 60_000, maxTracked: 100, now: () => t });
    for (let i = 0; i < 3; i++) {
      expect(limiter.blocked('192.0.2.1')).toBeUndefined();
      limiter.fail('192.0.2.1');
    }
    expect(limiter.blocked('192.0.2.1')).toEqual({ retryAfterSeconds: 60 });
    expect(limiter.blocked('192.0.2.2')).toBeUndefined();
    t = 60_000;
    expect(limiter.blocked('192.0.2.1')).toBeUndefined();
  });

  it('counts an IPv6 /64 as one address (a host picks any of its 2^64 addresses)', () => {
    const limiter = createFailedAuthLimiter({ max: 2, windowMs: 60_000, maxTracked: 100 });
    limiter.fail('2001:db8:1:2::1');
    limiter.fail('2001:db8:1:2:ffff::9');
    expect(limiter.blocked('2001:db8:1:2:abcd::1')).toBeDefined();
    expect(limiter.blocked('2001:db8:1:3::1')).toBeUndefined();
  });

  it('when full, evicts the entry that has failed least rather than a blocked one', () => {
    let t = 0;
    const limiter = createFailedAuthLimiter({ max: 3, windowMs: 60_000, maxTracked: 10, now: () => t });
    for (let i = 0; i < 3; i++) limiter.fail('192.0.2.66');
    for (let i = 0; i < 50; i++) {
      t += 1;
      limiter.fail(`198.51.100.${i}`);
    }
    expect(limiter.blocked('192.0.2.66')).toBeDefined();
  });
});
