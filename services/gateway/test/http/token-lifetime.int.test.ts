import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleRun } from '../support/fake-connector';
import { startJwtGatewayHarness } from '../support/gateway-harness';
import type { GatewayHarness, SigningKey } from '../support/gateway-harness';

const DAY = 24 * 3600_000;

describe('token lifetime and revocation (real FerretDB)', () => {
  let h: GatewayHarness;
  let key: SigningKey;

  beforeAll(async () => {
    ({ h, signingKey: key } = await startJwtGatewayHarness({
      GATEWAY_JWT_MAX_AGE: '1h',
      GATEWAY_ADMIN_TOKEN_MAX_AGE: `${30 * 24}h`,
      // Long: only the in-process revocation (operator route → stream registry) can end the stream in time.
      GATEWAY_SSE_REVERIFY_MS: '10m',
    }));
  });
  afterAll(async () => h?.close());

  const me = (credential: string) =>
    h.app.http.inject({
      method: 'GET',
      url: '/api/v1/me',
      headers: { authorization: `Bearer ${credential}` },
    });

  it('gives every admin token an expiry no later than the maximum age', async () => {
    const res = await h.operator('POST', '/api/v1/operator/tokens', {
      tenantId: 'school-a',
      label: 'expiry',
    });
    expect(res.statusCode).toBe(201);
    const body = res.json<{ createdAt: string; expiresAt: string }>();
    expect(Date.parse(body.expiresAt) - Date.parse(body.createdAt)).toBe(30 * DAY);
  });

  it('refuses an admin token older than the maximum age, even one stored without an expiry', async () => {
    const { token, tokenId } = await h.issueToken('school-a', 'old');
    expect((await me(token)).statusCode).toBe(200);
    await h.db.db
      .collection('admin_tokens')
      .updateOne(
        { _id: tokenId as never },
        { $set: { createdAt: new Date(Date.now() - 31 * DAY) }, $unset: { expiresAt: '' } },
      );
    const res = await me(token);
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('GATEWAY_TOKEN_INVALID');
  });

  const jwt = (build: (j: SignJWT) => SignJWT) =>
    build(
      new SignJWT({ tenantId: 'school-a' })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setSubject('alice@school-a')
        .setExpirationTime('5m'),
    ).sign(key);

  it('accepts a JWT with issuer, audience and a recent iat', async () => {
    const token = await jwt((j) => j.setIssuer('https://id.example').setAudience('isams-sync').setIssuedAt());
    expect((await me(token)).statusCode).toBe(200);
  });

  it('refuses JWTs without audience, without issuer, without iat, or issued longer ago than the maximum age', async () => {
    const now = Math.floor(Date.now() / 1000);
    const tokens = [
      await jwt((j) => j.setIssuer('https://id.example').setIssuedAt()),
      await jwt((j) => j.setAudience('isams-sync').setIssuedAt()),
      await jwt((j) => j.setIssuer('https://id.example').setAudience('isams-sync')),
      await jwt((j) =>
        j
          .setIssuer('https://id.example')
          .setAudience('isams-sync')
          .setIssuedAt(now - 2 * 3600)
          .setExpirationTime(now + 3600),
      ),
    ];
    for (const token of tokens) expect((await me(token)).statusCode).toBe(401);
  });

  it('ends an open event stream as soon as its token is revoked', async () => {
    const { token, tokenId } = await h.issueToken('school-a', 'stream');
    h.connector.runs.set('school-a', [sampleRun({ syncRunId: 'run-live', terminal: false })]);
    h.connector.watchForever = true;
    await h.app.start();
    const port = h.app.httpPort;
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/schools/school-a/sync-runs/run-live/events`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain('event: run');
    const revoked = await h.operator('DELETE', `/api/v1/operator/tokens/${tokenId}`);
    expect(revoked.statusCode).toBe(200);
    let rest = '';
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      rest += new TextDecoder().decode(chunk.value);
    }
    expect(rest).toContain('event: error');
    expect(rest).toContain('GATEWAY_TOKEN_INVALID');
  });
});
