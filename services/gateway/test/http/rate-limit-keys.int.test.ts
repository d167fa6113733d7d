import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayHarness } from '../support/gateway-harness';
import type { GatewayHarness } from '../support/gateway-harness';

// The same credential, written the ways the authentication accepts it (scheme in any case, any
// whitespace): each must count against the one bucket of that credential.
const spellings = (token: string) => [
  `Bearer ${token}`,
  `bearer ${token}`,
  `BEARER  ${token}`,
  `Bearer \t ${token}`,
];

describe('rate-limit keys (real FerretDB)', () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGatewayHarness({
      GATEWAY_RATE_LIMIT_PER_MINUTE: '3',
      GATEWAY_RATE_LIMIT_EXPENSIVE_PER_MINUTE: '3',
    });
  });
  afterAll(async () => h?.close());

  const send = (method: 'GET' | 'POST', url: string, authorization: string, remoteAddress = '192.0.2.30') =>
    h.app.http.inject({
      method,
      url,
      remoteAddress,
      headers: { authorization },
      ...(method === 'POST' ? { payload: {} } : {}),
    });

  it('counts every spelling of one credential against its expensive limit (Test connection)', async () => {
    const { token } = await h.issueToken('school-a');
    const answers = [];
    for (const authorization of spellings(token))
      answers.push(await send('POST', '/api/v1/schools/school-a/settings/test', authorization));
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200, 429]);
    expect(answers[3]!.json().error.code).toBe('GATEWAY_RATE_LIMITED');
  });

  it('counts every spelling of one credential against its general limit', async () => {
    const { token } = await h.issueToken('school-a');
    const answers = [];
    for (const authorization of spellings(token))
      answers.push(await send('GET', '/api/v1/me', authorization));
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200, 429]);
    expect(answers[3]!.json().error.code).toBe('GATEWAY_RATE_LIMITED');
    // Another credential from the same address (a school's NAT) keeps its own bucket.
    const other = await h.issueToken('school-a');
    expect((await send('GET', '/api/v1/me', `Bearer ${other.token}`)).statusCode).toBe(200);
  });

  it('keys a header that is not a bearer credential by the client address, however it is varied', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await send('GET', '/', `Basic guess-${i}`, '192.0.2.31')).statusCode);
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it('keys a route that needs no login by the client address, whatever bearer credential is sent', async () => {
    // An invented token per request must not buy a fresh bucket on the dashboard's files.
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await send('GET', '/', `Bearer invented-${i}`, '192.0.2.32')).statusCode);
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it('limits the OpenAPI document like every other route', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push(
        (await send('GET', '/api/v1/openapi.json', `Bearer invented-${i}`, '192.0.2.33')).statusCode,
      );
    expect(statuses).toEqual([200, 200, 200, 429]);
  });
});
