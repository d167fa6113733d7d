import { describe, expect, it } from 'vitest';
import { decideBatch } from '../../src/domain/batch-decision';
import { batchRequest as req } from '../support/batch-request';
import { addPupil, churn } from '../../src/domain/mutations';
import { createGeneratedSchool, liveRows } from '../../src/domain/simulated-school';

describe('decideBatch', () => {
  it('checks the IP before the throttle, so refused callers do not use up the limit', () => {
    const school = createGeneratedSchool('t', 1, 'small', {
      allowedIps: ['10.0.0.0/24'],
      throttle: { limit: 1, windowMs: 60_000 },
    });
    expect(decideBatch(school, req({ callerIp: '192.0.2.1' }))).toMatchObject({
      kind: 'message',
      spec: { messageId: 'IPAddressRestricted' },
      params: { ip: '192.0.2.1' },
    });
    expect(decideBatch(school, req()).kind).toBe('document');
    expect(decideBatch(school, req())).toMatchObject({
      kind: 'message',
      spec: { messageId: 'ThrottleLimitExceeded', httpStatus: 429 },
    });
  });

  it('consumes faults in order and clears them after `times` requests', () => {
    const school = createGeneratedSchool('t', 1, 'small');
    school.faults.push(
      { kind: 'timeout35s', remaining: 1 },
      { kind: 'slow', remaining: 2, delayMs: 10 },
      { kind: 'truncated', remaining: 1 },
    );
    expect(decideBatch(school, req())).toMatchObject({
      kind: 'message',
      delayMs: 35_000,
      spec: { messageId: 'UnhandledException' },
    });
    expect(decideBatch(school, req())).toMatchObject({ kind: 'document', delayMs: 10 });
    expect(decideBatch(school, req())).toMatchObject({ kind: 'document', delayMs: 10 });
    expect(decideBatch(school, req())).toMatchObject({ kind: 'document', damage: 'truncated' });
    expect(decideBatch(school, req())).toMatchObject({ kind: 'document', delayMs: 0 });
    expect(school.faults).toEqual([]);
  });

  it('serves the cached rows until expiry, live rows in bypass mode', () => {
    const school = createGeneratedSchool('t', 1, 'small', { cacheExpiryMs: 1_000 });
    const first = decideBatch(school, req());
    addPupil(school, { forename: 'New' });
    const cached = decideBatch(school, req({ now: 1_000_999 }));
    expect(cached).toMatchObject({ kind: 'document', cacheHit: true });
    const rowsOf = (o: ReturnType<typeof decideBatch>) =>
      o.kind === 'document'
        ? o.layout.flatMap((m) => m.containers).find((c) => c.dataset === 'currentPupils')?.rows.length
        : -1;
    expect(rowsOf(cached)).toBe(rowsOf(first));
    expect(rowsOf(decideBatch(school, req({ now: 1_001_000 })))).toBe((rowsOf(first) ?? 0) + 1);
    school.key.cacheMode = 'bypass';
    churn(school, 5, 0);
    expect(decideBatch(school, req({ now: 1_001_001 }))).toMatchObject({ kind: 'document', cacheHit: false });
    expect(rowsOf(decideBatch(school, req({ now: 1_001_002 })))).toBe(liveRows(school).currentPupils.length);
  });

  it('is deterministic for mutations too: the same script on the same seed gives the same rows', () => {
    const run = () => {
      const s = createGeneratedSchool('t', 8, 'small');
      churn(s, 7, 9);
      addPupil(s, { ncYear: -1 });
      return JSON.stringify(liveRows(s));
    };
    expect(run()).toBe(run());
  });
});
