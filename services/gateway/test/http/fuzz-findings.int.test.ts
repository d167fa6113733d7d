import { describe, expect, it } from 'vitest';
import { useGatewayHarness } from '../support/gateway-harness';

// Each case was found by the schemathesis run of test/fuzz/openapi-fuzz.int.test.ts.
describe('findings of the OpenAPI fuzzing, pinned (real FerretDB)', () => {
  const gw = useGatewayHarness('school-a');

  const send = (method: string, url: string, payload?: string) =>
    gw.h.app.http.inject({
      method: method as 'GET',
      url,
      headers: {
        authorization: `Bearer ${gw.token}`,
        ...(payload ? { 'content-type': 'application/json' } : {}),
      },
      ...(payload ? { payload } : {}),
    });

  it.each([
    ['QUERY', '/api/v1/schools/school-a/sync-runs/run-1'],
    ['QUERY', '/api/v1/schools/school-a/roster/staff/0'],
    ['TRACE', '/api/v1/me'],
    ['DELETE', '/api/v1/schools/school-a/settings'],
  ])(
    'answers %s %s, a method the route does not have, with 405, Allow and the error model',
    async (method, url) => {
      const res = await send(method, url);
      expect(res.statusCode).toBe(405);
      expect(res.headers.allow).toMatch(/GET|PUT|POST/);
      expect(res.json().error.code).toBe('GATEWAY_METHOD_NOT_ALLOWED');
    },
  );

  it('checks notification e-mails with the pattern the document states (not a stricter or looser e-mail format)', async () => {
    const body = (emails: string[]) =>
      JSON.stringify({ isamsUrl: 'https://0.com', apiKey: '{00000000-0000}', notificationEmails: emails });
    // Schemathesis found an address the document's `email` format refused but the route accepted.
    const odd = `${'E+-cp.Oe'.repeat(8)}@2PH0O.kz`; // a 64-character local part, the most RFC 5321 allows
    expect((await send('PUT', '/api/v1/schools/school-a/settings', body([odd]))).statusCode).toBe(200);
    const bad = await send('PUT', '/api/v1/schools/school-a/settings', body(['office at school']));
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('GATEWAY_VALIDATION_FAILED');
  });

  it('answers a path parameter longer than the router allows with 400 in the error model (not a bare 414)', async () => {
    const res = await send('POST', `/api/v1/schools/school-a/held-batches/${'x'.repeat(300)}/approve`, '{}');
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('GATEWAY_VALIDATION_FAILED');
    expect(res.json().error.requestId).toBe(res.headers['x-request-id']);
  });

  it('answers a malformed percent-encoding in the path with 400 in the error model', async () => {
    const res = await send('GET', '/api/v1/schools/school-a/sync-runs/%E0%A4%A');
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('GATEWAY_VALIDATION_FAILED');
  });

  it('documents the optional bodies of sync, connection test and discard as optional', async () => {
    const doc = (await gw.h.app.http.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
    for (const path of [
      '/api/v1/schools/{schoolId}/sync-runs',
      '/api/v1/schools/{schoolId}/settings/test',
      '/api/v1/schools/{schoolId}/held-batches/{batchId}/discard',
    ]) {
      expect(doc.paths[path].post.requestBody.required, path).toBe(false);
    }
  });
});
