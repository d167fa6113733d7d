import { describe, expect, it } from 'vitest';
import { tokenExpiry } from '../../src/domain/admin-token';
import { createStreamRegistry } from '../../src/domain/stream-registry';

const DAY = 24 * 3600_000;

describe('tokenExpiry', () => {
  const created = new Date('2026-01-01T00:00:00.000Z');
  it('is the stored expiry when it is within the maximum age', () => {
    const stored = new Date(created.getTime() + 10 * DAY);
    expect(tokenExpiry(created, stored, 90 * DAY)).toEqual(stored);
  });
  it('is capped by the maximum age (a lowered maximum shortens issued tokens)', () => {
    const stored = new Date(created.getTime() + 90 * DAY);
    expect(tokenExpiry(created, stored, 30 * DAY)).toEqual(new Date(created.getTime() + 30 * DAY));
  });
  it('gives a token stored without an expiry one', () => {
    expect(tokenExpiry(created, undefined, 30 * DAY)).toEqual(new Date(created.getTime() + 30 * DAY));
    expect(tokenExpiry(created, null, 30 * DAY)).toEqual(new Date(created.getTime() + 30 * DAY));
  });
});

describe('stream registry', () => {
  const caps = { maxStreams: 3, maxPerSchool: 2, maxPerCredential: 1 };
  const a1 = { tenantId: 'a', actor: 'token:1', credential: 'k1' };
  const a2 = { tenantId: 'a', actor: 'token:2', credential: 'k2' };
  const a3 = { tenantId: 'a', actor: 'token:3', credential: 'k3' };
  const b1 = { tenantId: 'b', actor: 'token:4', credential: 'k4' };
  const c1 = { tenantId: 'c', actor: 'token:5', credential: 'k5' };

  it('refuses by the first cap reached: credential, school, overall', () => {
    const r = createStreamRegistry(caps);
    const noop = () => undefined;
    expect(typeof r.open(a1, noop)).toBe('object');
    expect(r.open(a1, noop)).toBe('credential');
    expect(typeof r.open(a2, noop)).toBe('object');
    expect(r.open(a3, noop)).toBe('school');
    expect(typeof r.open(b1, noop)).toBe('object');
    expect(r.open(c1, noop)).toBe('overall');
    expect(r.openCount).toBe(3);
  });

  it('counts the per-credential cap by credential: the same actor in another school has its own', () => {
    const r = createStreamRegistry({ ...caps, maxPerSchool: 5, maxStreams: 5 });
    const noop = () => undefined;
    expect(typeof r.open({ tenantId: 'a', actor: 'jwt:admin', credential: 'jwt-a' }, noop)).toBe('object');
    expect(r.open({ tenantId: 'a', actor: 'jwt:admin', credential: 'jwt-a' }, noop)).toBe('credential');
    expect(typeof r.open({ tenantId: 'b', actor: 'jwt:admin', credential: 'jwt-b' }, noop)).toBe('object');
  });

  it('frees a place on release (idempotent) and ends an actor’s streams on demand', () => {
    const r = createStreamRegistry(caps);
    const ended: string[] = [];
    const lease = r.open(a1, (reason) => ended.push(`a1:${reason}`));
    if (typeof lease === 'string') throw new Error(lease);
    lease.release();
    lease.release();
    expect(r.openCount).toBe(0);
    r.open(a1, (reason) => ended.push(`a1:${reason}`));
    r.open(b1, (reason) => ended.push(`b1:${reason}`));
    expect(r.endActor('token:1')).toBe(1);
    expect(ended).toEqual(['a1:revoked']);
    expect(r.openCount).toBe(1);
    expect(typeof r.open(a1, () => undefined)).toBe('object');
  });

  it('ends every open stream when the gateway stops, and admits none after', () => {
    const r = createStreamRegistry(caps);
    const ended: string[] = [];
    r.open(a1, (reason) => ended.push(`a1:${reason}`));
    r.open(b1, (reason) => ended.push(`b1:${reason}`));
    expect(r.closeAll()).toBe(2);
    expect(ended).toEqual(['a1:shutdown', 'b1:shutdown']);
    expect(r.openCount).toBe(0);
    expect(r.open(c1, () => undefined)).toBe('shutdown');
  });
});
