import { describe, expect, it } from 'vitest';
import { OPERATOR_TOKEN, startGatewayHarness, useGatewayHarness } from '../support/gateway-harness';
import type { GatewayHarness } from '../support/gateway-harness';

const bad = (i: number) => `isg_${String(i % 10).repeat(43)}`;

describe('failed-authentication limit per client address (real FerretDB)', () => {
  const gw = useGatewayHarness('school-a');

  const me = (credential: string, remoteAddress = '192.0.2.10') =>
    gw.h.app.http.inject({
      method: 'GET',
      url: '/api/v1/me',
      remoteAddress,
      headers: { authorization: `Bearer ${credential}` },
    });

  it('never refuses a valid token after a flood of bad ones from the same address; the guesses get 429', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await me(bad(i))).statusCode);
    expect(statuses).toEqual(Array.from({ length: 30 }, () => 401));
    const guess = await me(`isg_${'z'.repeat(43)}`);
    expect(guess.statusCode).toBe(429);
    expect(guess.json().error.code).toBe('GATEWAY_RATE_LIMITED');
    const valid = await me(gw.token);
    expect(valid.statusCode).toBe(200);
    expect(valid.json().schoolId).toBe('school-a');
    expect(Number(guess.headers['retry-after'])).toBeGreaterThan(0);
    // Another address behind no proxy is not affected by the flood.
    expect((await me(bad(1), '192.0.2.11')).statusCode).toBe(401);
  });

  it('never refuses the valid operator token on the operator listener after a flood of bad ones', async () => {
    const op = gw.h.app.operatorHttp!;
    const list = (credential: string) =>
      op.inject({
        method: 'GET',
        url: '/api/v1/operator/tokens?tenantId=school-a',
        remoteAddress: '192.0.2.20',
        headers: { authorization: `Bearer ${credential}` },
      });
    for (let i = 0; i < 30; i++)
      expect((await list(`wrong-operator-token-${i}-0123456789abcdef`)).statusCode).toBe(401);
    expect((await list('wrong-operator-token-x-0123456789abcdef')).statusCode).toBe(429);
    expect((await list(OPERATOR_TOKEN)).statusCode).toBe(200);
  });
});

describe('client address behind trusted proxies (real FerretDB)', () => {
  const flood = async (h: GatewayHarness, xff: (i: number) => string, remoteAddress: string) => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await h.app.http.inject({
        method: 'GET',
        url: '/api/v1/me',
        remoteAddress,
        headers: { authorization: `Bearer ${bad(i)}`, 'x-forwarded-for': xff(i) },
      });
      statuses.push(res.statusCode);
    }
    return statuses;
  };

  it('with one trusted hop, a client cannot escape the limit by sending its own X-Forwarded-For', async () => {
    const h = await startGatewayHarness({ GATEWAY_TRUST_PROXY: '1', GATEWAY_FAILED_AUTH_PER_MINUTE: '3' });
    try {
      // The ingress (10.0.0.5) appends the real client (203.0.113.9) after whatever the client sent.
      const statuses = await flood(h, (i) => `198.51.100.${i}, 203.0.113.9`, '10.0.0.5');
      expect(statuses).toEqual([401, 401, 401, 429]);
      // A different real client behind the same ingress is not limited.
      const other = await flood(h, () => '203.0.113.10', '10.0.0.5');
      expect(other[0]).toBe(401);
    } finally {
      await h.close();
    }
  });

  it('with trusted proxy CIDRs, only hops inside them are skipped', async () => {
    const h = await startGatewayHarness({
      GATEWAY_TRUST_PROXY: '10.0.0.0/8, 172.16.0.0/12',
      GATEWAY_FAILED_AUTH_PER_MINUTE: '3',
    });
    try {
      const viaTwoProxies = await flood(h, (i) => `198.51.100.${i}, 203.0.113.9, 172.16.4.4`, '10.0.0.5');
      expect(viaTwoProxies).toEqual([401, 401, 401, 429]);
      // From an untrusted socket address the header is ignored entirely: the socket is the client.
      const direct = await flood(h, (i) => `10.9.9.${i}`, '198.51.100.77');
      expect(direct).toEqual([401, 401, 401, 429]);
    } finally {
      await h.close();
    }
  });
});
