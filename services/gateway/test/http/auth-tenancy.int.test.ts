import { SignJWT, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATOR_TOKEN, startJwtGatewayHarness } from '../support/gateway-harness';
import type { GatewayHarness, SigningKey } from '../support/gateway-harness';

const SETTINGS = { isamsUrl: 'https://school-a.isams.cloud', apiKey: 'AAAA-BBBB-CCCC-DDDD', format: 'xml' };

// One gateway (real FerretDB, fake connector) and two schools' tokens for the whole file; the
// describes run in order on it (the first counts the tokens issued so far).
let h: GatewayHarness;
let tokenA: string;
let tokenB: string;
let tokenIdA: string;
let signingKey: SigningKey;
let otherKey: SigningKey;

beforeAll(async () => {
  ({ h, signingKey } = await startJwtGatewayHarness({ GATEWAY_RATE_LIMIT_EXPENSIVE_PER_MINUTE: '3' }));
  otherKey = (await generateKeyPair('ES256')).privateKey;
  ({ token: tokenA, tokenId: tokenIdA } = await h.issueToken('school-a'));
  ({ token: tokenB } = await h.issueToken('school-b'));
});
afterAll(async () => h?.close());

const jwt = (claims: Record<string, unknown>, key: SigningKey = signingKey, exp = '5m') =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setIssuer('https://id.example')
    .setAudience('isams-sync')
    .setSubject('alice@school-a')
    .setIssuedAt()
    .setExpirationTime(exp)
    .sign(key);

const get = (url: string, token?: string) =>
  h.app.http.inject({
    method: 'GET',
    url,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });

describe('auth: admin tokens and unauthenticated requests (real FerretDB, fake connector)', () => {
  it('stores only a hash of an issued token', async () => {
    const docs = await h.db.db.collection('admin_tokens').find({}).toArray();
    expect(docs.length).toBe(2);
    for (const doc of docs) {
      expect(JSON.stringify(doc)).not.toContain(tokenA);
      expect(JSON.stringify(doc)).not.toContain(tokenB);
      expect(doc.hash).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(tokenA).toMatch(/^isg_[A-Za-z0-9_-]{43}$/);
  });

  it('answers /me with the school of the credential', async () => {
    const res = await get('/api/v1/me', tokenA);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      schoolId: 'school-a',
      actor: `token:${tokenIdA}`,
      authMethod: 'admin_token',
    });
  });

  it.each([
    ['no header', undefined, 'GATEWAY_UNAUTHENTICATED'],
    ['a wrong token', 'isg_' + 'A'.repeat(43), 'GATEWAY_TOKEN_INVALID'],
    ['garbage', 'not-a-token', 'GATEWAY_TOKEN_INVALID'],
    ['the operator token', OPERATOR_TOKEN, 'GATEWAY_TOKEN_INVALID'],
  ])('rejects %s with 401 and a coded error', async (_name, token, code) => {
    const res = await get('/api/v1/schools/school-a/settings', token);
    expect(res.statusCode).toBe(401);
    const body = res.json<{ error: { code: string; requestId: string } }>();
    expect(body.error.code).toBe(code);
    expect(body.error.requestId).toBe(res.headers['x-request-id']);
  });

  it('rejects an unauthenticated write before reading its body, and changes nothing', async () => {
    const before = h.connector.calls.length;
    const res = await h.app.http.inject({
      method: 'PUT',
      url: '/api/v1/schools/school-a/settings',
      payload: SETTINGS,
    });
    expect(res.statusCode).toBe(401);
    expect(h.connector.calls.length).toBe(before);
  });
});

describe('tenancy: a school reaches only its own data, upstream too (real FerretDB, fake connector)', () => {
  it("answers another school's path with 404, exactly like an unknown school, and changes nothing", async () => {
    const before = h.connector.calls.length;
    const other = await h.app.http.inject({
      method: 'PUT',
      url: '/api/v1/schools/school-b/settings',
      headers: { authorization: `Bearer ${tokenA}` },
      payload: SETTINGS,
    });
    const unknown = await get('/api/v1/schools/no-such-school/settings', tokenA);
    expect(other.statusCode).toBe(404);
    expect(unknown.statusCode).toBe(404);
    expect(other.json().error.code).toBe('GATEWAY_NOT_FOUND');
    expect(other.json().error.message).toBe(unknown.json().error.message);
    expect(h.connector.calls.length).toBe(before);
  });

  it("does not show another school's run: the upstream is asked for the caller's school only", async () => {
    const created = await h.app.http.inject({
      method: 'POST',
      url: '/api/v1/schools/school-b/sync-runs',
      headers: { authorization: `Bearer ${tokenB}` },
      payload: { dryRun: true },
    });
    expect(created.statusCode).toBe(202);
    const runId = created.json().run.syncRunId as string;
    const res = await get(`/api/v1/schools/school-a/sync-runs/${runId}`, tokenA);
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('CONNECTOR_RUN_NOT_FOUND');
    expect(h.connector.calls.at(-1)?.ctx.tenantId).toBe('school-a');
  });

  it('propagates the request id and the actor to the upstream call', async () => {
    const res = await h.app.http.inject({
      method: 'GET',
      url: '/api/v1/schools/school-a/egress',
      headers: { authorization: `Bearer ${tokenA}`, 'x-request-id': 'req-abc.123' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-request-id']).toBe('req-abc.123');
    expect(h.connector.calls.at(-1)?.ctx).toEqual({
      tenantId: 'school-a',
      requestId: 'req-abc.123',
      actor: `token:${tokenIdA}`,
    });
  });
});

describe("auth: JWTs of the school's identity provider (real FerretDB)", () => {
  it('accepts a valid JWT and takes the school from its tenantId claim', async () => {
    const res = await get('/api/v1/me', await jwt({ tenantId: 'school-a' }));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ schoolId: 'school-a', actor: 'jwt:alice@school-a', authMethod: 'jwt' });
  });

  it('rejects a tampered JWT (payload changed to another school), a foreign key, an expired one and alg none', async () => {
    const good = await jwt({ tenantId: 'school-a' });
    const [header, , signature] = good.split('.');
    const forged = Buffer.from(
      JSON.stringify({
        tenantId: 'school-b',
        sub: 'alice@school-a',
        iss: 'https://id.example',
        aud: 'isams-sync',
        iat: Math.floor(Date.now() / 1000),
        exp: 4102444800,
      }),
    ).toString('base64url');
    const tampered = `${header}.${forged}.${signature}`;
    const foreign = await jwt({ tenantId: 'school-a' }, otherKey);
    const expired = await jwt({ tenantId: 'school-a' }, signingKey, '-1m');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${forged}.`;
    for (const token of [tampered, foreign, expired, none]) {
      const res = await get('/api/v1/schools/school-b/settings', token);
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toMatch(/^GATEWAY_(TOKEN_INVALID|UNAUTHENTICATED)$/);
    }
  });

  it('rejects a JWT without a tenantId claim', async () => {
    const res = await get('/api/v1/me', await jwt({}));
    expect(res.statusCode).toBe(401);
  });
});

describe('writes: request bodies, saved settings and rate limits (real FerretDB, fake connector)', () => {
  it('rejects oversized and malformed bodies with 413/400 codes, and changes nothing', async () => {
    const before = h.connector.calls.filter((c) => c.method === 'putSettings').length;
    const put = (payload: string | object, contentType = 'application/json') =>
      h.app.http.inject({
        method: 'PUT',
        url: '/api/v1/schools/school-a/settings',
        headers: { authorization: `Bearer ${tokenA}`, 'content-type': contentType },
        payload,
      });
    const big = await put(JSON.stringify({ ...SETTINGS, pad: 'x'.repeat(70_000) }));
    expect(big.statusCode).toBe(413);
    expect(big.json().error.code).toBe('GATEWAY_BODY_TOO_LARGE');
    const malformed = await put('{"isamsUrl": ');
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe('GATEWAY_MALFORMED_BODY');
    const invalid = await put({ ...SETTINGS, isamsUrl: 'ftp://x' });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json().error.code).toBe('GATEWAY_VALIDATION_FAILED');
    expect(invalid.json().error.details.issues[0].path).toContain('isamsUrl');
    const unknownField = await put({ ...SETTINGS, tenantId: 'school-b' });
    expect(unknownField.statusCode).toBe(400);
    const wrongType = await put('hello', 'text/plain');
    expect(wrongType.statusCode).toBe(415);
    expect(wrongType.json().error.code).toBe('GATEWAY_UNSUPPORTED_MEDIA_TYPE');
    expect(h.connector.calls.filter((c) => c.method === 'putSettings').length).toBe(before);
  });

  it('saves settings, never echoes the key, and audits the change', async () => {
    const res = await h.app.http.inject({
      method: 'PUT',
      url: '/api/v1/schools/school-a/settings',
      headers: { authorization: `Bearer ${tokenA}` },
      payload: SETTINGS,
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).not.toContain(SETTINGS.apiKey);
    expect(res.json().keyLast4).toBe('DDDD');
    const audit = await get('/api/v1/schools/school-a/audit-log', tokenA);
    expect(audit.json().entries[0]).toMatchObject({
      action: 'settings.update',
      outcome: 'succeeded',
      actor: `token:${tokenIdA}`,
    });
    const auditB = await get('/api/v1/schools/school-b/audit-log', tokenB);
    expect(auditB.json().entries.map((e: { action: string }) => e.action)).not.toContain('settings.update');
  });

  it('rate-limits connection tests per credential with 429 and Retry-After', async () => {
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 4; i++) {
      last = await h.app.http.inject({
        method: 'POST',
        url: '/api/v1/schools/school-a/settings/test',
        headers: { authorization: `Bearer ${tokenA}` },
        payload: {},
      });
      statuses.push(last.statusCode);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(last!.json().error.code).toBe('GATEWAY_RATE_LIMITED');
    expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0);
    const otherSchool = await h.app.http.inject({
      method: 'POST',
      url: '/api/v1/schools/school-b/settings/test',
      headers: { authorization: `Bearer ${tokenB}` },
      payload: {},
    });
    expect(otherSchool.statusCode).toBe(200);
  });
});

describe('token revocation, operator routes and security headers (real FerretDB)', () => {
  it('revokes a token: it stops working at once', async () => {
    const { token, tokenId } = await h.issueToken('school-a', 'temp');
    expect((await get('/api/v1/me', token)).statusCode).toBe(200);
    const del = await h.operator('DELETE', `/api/v1/operator/tokens/${tokenId}`);
    expect(del.statusCode).toBe(200);
    expect(del.json().revokedAt).not.toBeNull();
    expect((await get('/api/v1/me', token)).statusCode).toBe(401);
    const list = await h.operator('GET', '/api/v1/operator/tokens?tenantId=school-a');
    expect(list.json().tokens.map((t: { tokenId: string }) => t.tokenId)).toContain(tokenId);
    expect(list.body).not.toContain(token);
  });

  it('refuses operator routes to a school token and to no token', async () => {
    const asSchool = await h.operator(
      'POST',
      '/api/v1/operator/tokens',
      { tenantId: 'school-a', label: 'x' },
      tokenA,
    );
    expect(asSchool.statusCode).toBe(401);
    const anonymous = await h.operator('GET', '/api/v1/operator/tokens?tenantId=school-a', undefined, null);
    expect(anonymous.statusCode).toBe(401);
    expect(await h.db.db.collection('admin_tokens').countDocuments({ label: 'x' })).toBe(0);
  });

  it('sends security headers', async () => {
    const res = await get('/api/v1/me', tokenA);
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(res.headers['strict-transport-security']).toBeDefined();
    expect(res.headers['cache-control']).toBe('no-store');
  });
});
