import { describe, expect, it } from 'vitest';
import {
  allowListEntry,
  cacheFresh,
  cacheKeyFor,
  callerAddress,
  ipAllowed,
  normaliseApiKey,
  throttleDecision,
} from '../../src/domain/key-policy';

describe('key policy', () => {
  it('matches keys braced or bare, any case', () => {
    expect(normaliseApiKey('{0a1c996b-8e74-4388-a3c4-8da1e40ada57}')).toBe(
      '0A1C996B-8E74-4388-A3C4-8DA1E40ADA57',
    );
    expect(normaliseApiKey(' 0A1C996B-8E74-4388-A3C4-8DA1E40ADA57 ')).toBe(
      '0A1C996B-8E74-4388-A3C4-8DA1E40ADA57',
    );
  });

  it('allows exact IPs and CIDR ranges, everyone when the list is empty', () => {
    expect(ipAllowed('10.1.2.3', [])).toBe(true);
    expect(ipAllowed('10.1.2.3', ['10.1.0.0/16'])).toBe(true);
    expect(ipAllowed('10.2.2.3', ['10.1.0.0/16'])).toBe(false);
    expect(ipAllowed('::ffff:127.0.0.1', ['127.0.0.1'])).toBe(true);
    expect(ipAllowed('127.0.0.2', ['127.0.0.1', '192.168.0.0/24'])).toBe(false);
    expect(ipAllowed('::1', ['::1'])).toBe(true);
  });

  it('keeps allow-list entries that can match, canonical, and refuses the rest', () => {
    expect(allowListEntry(' 10.1.0.0/16 ')).toBe('10.1.0.0/16');
    expect(allowListEntry('::FFFF:127.0.0.1')).toBe('127.0.0.1');
    expect(allowListEntry('0:0:0:0:0:0:0:1')).toBe('::1');
    expect(ipAllowed('::1', [allowListEntry('0:0::1')!])).toBe(true);
    for (const bad of [
      'not-an-ip',
      '::1/128',
      '10.0.0.0/33',
      '10.0.0.0/',
      '10.0.0.0/8/8',
      '1.2.3',
      'fe80::1%eth0',
      '',
    ])
      expect(allowListEntry(bad), bad).toBeUndefined();
  });

  it('uses X-Forwarded-For only when a proxy is trusted', () => {
    expect(callerAddress('127.0.0.1', '203.0.113.9, 10.0.0.1', true)).toBe('203.0.113.9');
    expect(callerAddress('127.0.0.1', '203.0.113.9', false)).toBe('127.0.0.1');
  });

  it('throttles per fixed window', () => {
    const settings = { limit: 2, windowMs: 1000 };
    let state = { windowStart: 0, count: 0 };
    const results: boolean[] = [];
    for (const now of [5000, 5100, 5200, 6001]) {
      const d = throttleDecision(state, settings, now);
      state = d.state;
      results.push(d.allowed);
    }
    expect(results).toEqual([true, true, false, true]);
    expect(throttleDecision(state, undefined, 0).allowed).toBe(true);
  });

  it('keys the cache by key and normalised MethodsToRun unless configured per key', () => {
    expect(cacheKeyFor('K', ['B_x', 'a_Y'], 'key+methods')).toBe(
      cacheKeyFor('K', ['A_y', 'b_X', 'a_y'], 'key+methods'),
    );
    expect(cacheKeyFor('K', ['a'], 'key+methods')).not.toBe(cacheKeyFor('K', undefined, 'key+methods'));
    expect(cacheKeyFor('K', ['a'], 'key')).toBe(cacheKeyFor('K', undefined, 'key'));
    expect(cacheFresh(1000, 1999, 1000)).toBe(true);
    expect(cacheFresh(1000, 2000, 1000)).toBe(false);
  });
});
