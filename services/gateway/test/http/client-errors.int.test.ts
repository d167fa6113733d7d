import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayHarness } from '../support/gateway-harness';
import type { GatewayHarness } from '../support/gateway-harness';
import { parseRawAnswer, rawExchange } from '../support/raw-http';
import type { RawAnswer } from '../support/raw-http';

/** Sends `request` as it is and parses what the server writes until it closes the socket. */
const exchange = async (port: number, request: string): Promise<RawAnswer> =>
  parseRawAnswer(await rawExchange(port, request));

/** The answer is in the error model, with a fresh request id in the body and the header. */
function expectErrorModel(answer: RawAnswer, status: string, code: string): void {
  expect(answer.statusLine).toBe(`HTTP/1.1 ${status}`);
  const body = JSON.parse(answer.body) as { error: { code: string; message: string; requestId: string } };
  expect(body).toEqual({
    error: { code, message: expect.any(String), requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) },
  });
  expect(answer.headers).toMatchObject({
    'x-request-id': body.error.requestId,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(answer.body)),
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
    connection: 'close',
  });
}

const BIG_HEADER = `GET /api/v1/me HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`;

describe('requests refused by the HTTP parser (real FerretDB, listening)', () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await startGatewayHarness({ GATEWAY_HEADERS_TIMEOUT_MS: '500ms', GATEWAY_REQUEST_TIMEOUT_MS: '1s' });
    await h.app.start();
  });
  afterAll(async () => h?.close());

  it('answers headers over the size limit with 431 GATEWAY_HEADERS_TOO_LARGE, on both listeners', async () => {
    expectErrorModel(
      await exchange(h.app.httpPort, BIG_HEADER),
      '431 Request Header Fields Too Large',
      'GATEWAY_HEADERS_TOO_LARGE',
    );
    expectErrorModel(
      await exchange(h.app.operatorPort!, BIG_HEADER),
      '431 Request Header Fields Too Large',
      'GATEWAY_HEADERS_TOO_LARGE',
    );
  });

  it('answers Content-Length with Transfer-Encoding, and a non-numeric Content-Length, with 400 GATEWAY_MALFORMED_REQUEST', async () => {
    const clAndTe = await exchange(
      h.app.httpPort,
      'POST /api/v1/schools/s/sync-runs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    );
    expectErrorModel(clAndTe, '400 Bad Request', 'GATEWAY_MALFORMED_REQUEST');
    const badLength = await exchange(
      h.app.httpPort,
      'POST /api/v1/schools/s/sync-runs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}',
    );
    expectErrorModel(badLength, '400 Bad Request', 'GATEWAY_MALFORMED_REQUEST');
    expect(JSON.parse(badLength.body).error.requestId).not.toBe(JSON.parse(clAndTe.body).error.requestId);
  });

  it('answers headers that never finish with 408 GATEWAY_REQUEST_TIMEOUT', async () => {
    const answer = await exchange(h.app.httpPort, 'GET /api/v1/me HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    expectErrorModel(answer, '408 Request Timeout', 'GATEWAY_REQUEST_TIMEOUT');
  });
});
