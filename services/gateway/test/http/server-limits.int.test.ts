import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleRun } from '../support/fake-connector';
import { startGatewayHarness } from '../support/gateway-harness';
import type { GatewayHarness } from '../support/gateway-harness';
import { rawExchange } from '../support/raw-http';

describe('server timeouts and event-stream caps (real FerretDB)', () => {
  let h: GatewayHarness;
  let token: string;
  let token2: string;
  let tokenB: string;
  beforeAll(async () => {
    h = await startGatewayHarness({
      GATEWAY_HEADERS_TIMEOUT_MS: '500ms',
      GATEWAY_REQUEST_TIMEOUT_MS: '1s',
      GATEWAY_SSE_MAX_PER_CREDENTIAL: '2',
      GATEWAY_SSE_MAX_PER_SCHOOL: '3',
      GATEWAY_SSE_MAX_STREAMS: '4',
      // Longer than the request timeout: that timeout covers receiving the request, never a stream.
      GATEWAY_SSE_MAX_LIFETIME_MS: '2500ms',
      GATEWAY_SSE_REVERIFY_MS: '100ms',
    });
    await h.app.start();
    token = (await h.issueToken('school-a')).token;
    token2 = (await h.issueToken('school-a')).token;
    tokenB = (await h.issueToken('school-b')).token;
    h.connector.watchForever = true;
    h.connector.runs.set('school-a', [sampleRun({ syncRunId: 'run-a', terminal: false })]);
    h.connector.runs.set('school-b', [sampleRun({ syncRunId: 'run-b', terminal: false })]);
  });
  afterAll(async () => h?.close());

  it('closes a connection whose headers never finish (slowloris) with 408', async () => {
    const answer = await rawExchange(h.app.httpPort, 'GET /api/v1/me HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('closes a connection whose body never finishes with 408', async () => {
    const answer = await rawExchange(
      h.app.httpPort,
      `PUT /api/v1/schools/school-a/settings HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"isamsUrl":`,
    );
    expect(answer).toMatch(/408/);
  });

  const open = (tenant: string, run: string, credential: string) =>
    fetch(`http://127.0.0.1:${h.app.httpPort}/api/v1/schools/${tenant}/sync-runs/${run}/events`, {
      headers: { authorization: `Bearer ${credential}` },
    });
  const readAll = async (res: Response) => {
    let text = '';
    const reader = res.body!.getReader();
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) return text;
      text += new TextDecoder().decode(chunk.value);
    }
  };

  it('caps event streams per credential, per school and overall, and ends each at its maximum lifetime', async () => {
    const a1 = await open('school-a', 'run-a', token);
    const a2 = await open('school-a', 'run-a', token);
    const a3 = await open('school-a', 'run-a', token);
    expect([a1.status, a2.status, a3.status]).toEqual([200, 200, 429]);
    expect(((await a3.json()) as { error: { code: string } }).error.code).toBe('GATEWAY_STREAM_LIMIT');
    const a4 = await open('school-a', 'run-a', token2);
    const a5 = await open('school-a', 'run-a', token2);
    expect([a4.status, a5.status]).toEqual([200, 429]);
    const b1 = await open('school-b', 'run-b', tokenB);
    const b2 = await open('school-b', 'run-b', tokenB);
    expect([b1.status, b2.status]).toEqual([200, 429]);
    const ended = await Promise.all([a1, a2, a4, b1].map(readAll));
    for (const text of ended) {
      expect(text).toContain('event: run');
      expect(text).toContain('GATEWAY_STREAM_EXPIRED');
    }
    // Streams that ended free their places.
    const again = await open('school-b', 'run-b', tokenB);
    expect(again.status).toBe(200);
    await again.body?.cancel();
  });

  it('ends an open stream whose token was revoked elsewhere (CLI, another replica) at its next re-check', async () => {
    const { token: revokedLater, tokenId } = await h.issueToken('school-b', 'cli-revoked');
    const res = await open('school-b', 'run-b', revokedLater);
    expect(res.status).toBe(200);
    await h.db.db
      .collection('admin_tokens')
      .updateOne({ _id: tokenId as never }, { $set: { revokedAt: new Date(), revokedBy: 'operator:cli' } });
    const text = await readAll(res);
    expect(text).toContain('GATEWAY_TOKEN_INVALID');
    expect(text).not.toContain('GATEWAY_STREAM_EXPIRED');
  });
});
