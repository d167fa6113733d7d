import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATOR_TOKEN, startGatewayHarness } from '../support/gateway-harness';
import type { GatewayHarness } from '../support/gateway-harness';

describe('failed-authentication limit per client IP (real FerretDB)', () => {
  let h: GatewayHarness;
  let token: string;
  beforeAll(async () => {
    h = await startGatewayHarness({ GATEWAY_FAILED_AUTH_PER_MINUTE: '3' });
    token = (await h.issueToken('school-a')).token;
  });
  afterAll(async () => h?.close());

  const me = (credential: string) =>
    h.app.http.inject({
      method: 'GET',
      url: '/api/v1/me',
      headers: { authorization: `Bearer ${credential}` },
    });

  it('answers 429 once an IP has guessed wrong too often, whatever token it tries next', async () => {
    expect((await me(token)).statusCode).toBe(200);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await me(`isg_${String(i).repeat(43)}`)).statusCode);
    expect(statuses).toEqual([401, 401, 401]);
    const guess = await me(`isg_${'z'.repeat(43)}`);
    expect(guess.statusCode).toBe(429);
    expect(guess.json().error.code).toBe('GATEWAY_RATE_LIMITED');
    expect((await me(token)).statusCode).toBe(429);
    const operator = await h.app.http.inject({
      method: 'GET',
      url: '/api/v1/operator/tokens?tenantId=school-a',
      headers: { authorization: `Bearer ${OPERATOR_TOKEN}` },
    });
    expect(operator.statusCode).toBe(429);
  });
});
