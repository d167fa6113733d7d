import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayHarness } from '../support/gateway-harness';
import type { GatewayHarness } from '../support/gateway-harness';

/** The gateway's RED series as its ops server exposes them (service label dropped). */
async function redLines(h: GatewayHarness): Promise<string[]> {
  const text = await (await fetch(`http://127.0.0.1:${h.app.opsPort}/metrics`)).text();
  return text
    .split('\n')
    .filter(
      (l) =>
        l.startsWith('gateway_http_requests_total{') ||
        l.startsWith('gateway_http_request_duration_seconds_count{'),
    )
    .map((l) => l.replace(/service="gateway",?/, '').replace(/,}/, '}'));
}

describe('gateway request metrics (RED): by route template, never by URL (real FerretDB, fake connector)', () => {
  let h: GatewayHarness;
  let token: string;
  beforeAll(async () => {
    h = await startGatewayHarness({ HTTP_HOST: '127.0.0.1', GATEWAY_OPERATOR_HOST: '127.0.0.1' });
    await h.app.start();
    token = (await h.issueToken('school-red-7')).token;
  });
  afterAll(async () => h?.close());

  it('labels requests with the matched route, method, status and listener; unknown paths as unmatched', async () => {
    expect((await h.request(token, 'GET', '/api/v1/schools/school-red-7/overview?x=secret')).statusCode).toBe(
      200,
    );
    expect((await h.request(token, 'GET', '/api/v1/schools/school-red-7/overview')).statusCode).toBe(200);
    expect((await h.request('isg_wrong', 'GET', '/api/v1/schools/school-red-7/overview')).statusCode).toBe(
      401,
    );
    expect((await h.request(token, 'GET', '/api/v1/schools/school-red-7/no-such-route')).statusCode).toBe(
      404,
    );

    const lines = await redLines(h);
    expect(lines).toEqual(
      expect.arrayContaining([
        'gateway_http_requests_total{listener="operator",method="POST",route="/api/v1/operator/tokens",status_code="201"} 1',
        'gateway_http_requests_total{listener="public",method="GET",route="/api/v1/schools/:schoolId/overview",status_code="200"} 2',
        'gateway_http_requests_total{listener="public",method="GET",route="/api/v1/schools/:schoolId/overview",status_code="401"} 1',
        'gateway_http_requests_total{listener="public",method="GET",route="unmatched",status_code="404"} 1',
        'gateway_http_request_duration_seconds_count{listener="public",method="GET",route="/api/v1/schools/:schoolId/overview"} 3',
      ]),
    );
    // No school id, query string or token ever becomes a label value.
    expect(lines.filter((l) => /school-red-7|secret|isg_/.test(l))).toEqual([]);
  });
});
