import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATOR_TOKEN, startGatewayHarness } from '../support/gateway-harness';
import type { GatewayHarness } from '../support/gateway-harness';

describe('operator endpoints on their own listener (real FerretDB)', () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGatewayHarness();
    await h.app.start();
  });
  afterAll(async () => h?.close());

  const issue = (base: string) =>
    fetch(`${base}/api/v1/operator/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tenantId: 'school-a', label: 'listener' }),
    });

  it('does not serve operator routes on the public listener, even with the operator token', async () => {
    const res = await issue(`http://127.0.0.1:${h.app.httpPort}`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('GATEWAY_ROUTE_NOT_FOUND');
    expect(await h.db.db.collection('admin_tokens').countDocuments({ label: 'listener' })).toBe(0);
    const doc = (await (await fetch(`http://127.0.0.1:${h.app.httpPort}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(doc.paths).filter((p) => p.includes('operator'))).toEqual([]);
  });

  it('serves them on the operator listener, bound to loopback by default, which serves nothing else', async () => {
    expect(h.app.operatorPort).toBeGreaterThan(0);
    expect(h.app.operatorPort).not.toBe(h.app.httpPort);
    const address = h.app.operatorHttp!.server.address() as { address: string };
    expect(address.address).toBe('127.0.0.1');
    const base = `http://127.0.0.1:${h.app.operatorPort}`;
    const res = await issue(base);
    expect(res.status).toBe(201);
    const school = (await res.json()) as { token: string };
    const me = await fetch(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${school.token}` } });
    expect(me.status).toBe(404);
  });
});
