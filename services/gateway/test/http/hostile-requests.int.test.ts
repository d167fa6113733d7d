import type { ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { Metadata, status as grpcStatus } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { GrpcCallError } from '@isams-sync/grpc';
import { createLogger } from '@isams-sync/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleRun } from '../support/fake-connector';
import { startGatewayHarness } from '../support/gateway-harness';
import type { GatewayHarness } from '../support/gateway-harness';
import { parseRawAnswer, rawExchange } from '../support/raw-http';
import { receivedFrom } from '../support/upstream-errors';
import { upstreamError } from '../../src/adapters/grpc-clients/upstream-call';
import type { RosterGateway } from '../../src/use-cases/ports';

// The gateway under hostile use (session 54): what an admin of one school, or anyone, can send that
// no other test sends. One gateway (real FerretDB, fake upstreams) and two schools for the file.
// Every line the gateway logs, at every level, as written.
const logLines: string[] = [];
const logger = createLogger({
  service: 'gateway',
  level: 'trace',
  destination: { write: (line) => logLines.push(line) },
});

let h: GatewayHarness;
let tokenA: string;
beforeAll(async () => {
  h = await startGatewayHarness({}, { logger });
  tokenA = (await h.issueToken('school-a')).token;
  await h.issueToken('school-b');
  h.connector.runs.set('school-a', [sampleRun({ syncRunId: 'run-a' })]);
  h.connector.runs.set('school-b', [sampleRun({ syncRunId: 'run-b' })]);
});
afterAll(async () => h?.close());

/** One request written as it is on a fresh connection (`target` is the request line's target). */
const raw = async (method: string, target: string) =>
  parseRawAnswer(
    await rawExchange(
      h.app.httpPort,
      `${method} ${target} HTTP/1.1\r\nHost: gateway.example\r\nAuthorization: Bearer ${tokenA}\r\nConnection: close\r\n\r\n`,
    ),
  );

describe('request targets in absolute form (`GET http://host/path HTTP/1.1`, which HTTP/1.1 servers must accept)', () => {
  it('answers a school route with Cache-Control: no-store, as for the same path in origin form', async () => {
    const origin = await raw('GET', '/api/v1/schools/school-a/overview');
    expect(origin.statusLine).toMatch(/ 200 /);
    expect(origin.headers['cache-control']).toBe('no-store');
    const absolute = await raw('GET', 'http://gateway.example/api/v1/schools/school-a/overview');
    expect(absolute.statusLine).toMatch(/ 200 /);
    expect(absolute.headers['cache-control']).toBe('no-store');
  });

  it('answers a known path with another method 405 with Allow, as in origin form', async () => {
    const absolute = await raw('DELETE', 'http://gateway.example/api/v1/schools/school-a/overview');
    expect(absolute.statusLine).toMatch(/ 405 /);
    expect(absolute.headers.allow).toBe('GET, HEAD');
    expect(JSON.parse(absolute.body).error.code).toBe('GATEWAY_METHOD_NOT_ALLOWED');
  });

  it("answers another school's path 404, exactly like an unknown school", async () => {
    const absolute = await raw('GET', 'http://gateway.example/api/v1/schools/school-b/sync-runs/run-b');
    expect(absolute.statusLine).toMatch(/ 404 /);
    expect(JSON.parse(absolute.body).error.code).toBe('GATEWAY_NOT_FOUND');
    expect(absolute.headers['cache-control']).toBe('no-store');
  });
});

const get = (url: string, headers: Record<string, string> = {}) =>
  h.app.http.inject({ method: 'GET', url, headers: { authorization: `Bearer ${tokenA}`, ...headers } });
const send = (method: 'PUT' | 'POST', url: string, payload: string, contentType = 'application/json') =>
  h.app.http.inject({
    method,
    url,
    headers: { authorization: `Bearer ${tokenA}`, 'content-type': contentType },
    payload,
  });
/** The schools the fake upstreams were asked about since `from` (their call counts then). */
const upstreamSchools = (from: { connector: number; roster: number }) => [
  ...new Set([
    ...h.connector.calls.slice(from.connector).map((c) => c.ctx.tenantId),
    ...h.upstream.calls.slice(from.roster).map((c) => c.tenantId),
  ]),
];
const mark = () => ({ connector: h.connector.calls.length, roster: h.upstream.calls.length });

describe("tenancy: no spelling of another school's id reaches it", () => {
  it.each([
    ['another case', '/api/v1/schools/SCHOOL-A/overview'],
    ['percent-encoded', '/api/v1/schools/school%2Db/overview'],
    ['an encoded ../ to the own school', '/api/v1/schools/school-b%2F..%2Fschool-a/overview'],
    ['a dot segment', '/api/v1/schools/school-a/../school-b/overview'],
    ['a look-alike hyphen (U+2010)', '/api/v1/schools/school%E2%80%90a/overview'],
    ['a trailing NUL', '/api/v1/schools/school-a%00/overview'],
    ['a matrix parameter', '/api/v1/schools/school-a;x/overview'],
    ["another school's run stream", '/api/v1/schools/school-b/sync-runs/run-b/events'],
  ])('%s → 404 GATEWAY_NOT_FOUND, no upstream asked', async (_what, url) => {
    const before = mark();
    const res = await get(url);
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toMatchObject({ code: 'GATEWAY_NOT_FOUND', message: 'School not found' });
    expect(upstreamSchools(before)).toEqual([]);
  });

  it("a percent-encoded spelling of the caller's own school is that school (the router decodes paths)", async () => {
    const before = mark();
    const res = await get('/api/v1/schools/school%2Da/sync-runs');
    expect(res.statusCode).toBe(200);
    expect(upstreamSchools(before)).toEqual(['school-a']);
  });

  it("another school's run id under the caller's own school: 404 from the upstream asked for the caller's school, no stream", async () => {
    const before = mark();
    const res = await get('/api/v1/schools/school-a/sync-runs/run-b/events');
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('CONNECTOR_RUN_NOT_FOUND');
    expect(upstreamSchools(before)).toEqual(['school-a']);
  });

  it('ignores a school named in a header or the query: the credential decides', async () => {
    const before = mark();
    const me = await get('/api/v1/me?tenantId=school-b&schoolId=school-b', { 'x-tenant-id': 'school-b' });
    expect(me.json().schoolId).toBe('school-a');
    const runs = await get('/api/v1/schools/school-a/sync-runs?tenantId=school-b', {
      'x-tenant-id': 'school-b',
    });
    expect(runs.statusCode).toBe(200);
    expect(upstreamSchools(before)).toEqual(['school-a']);
  });
});

describe('query strings: repeated, oversized and array-valued parameters', () => {
  it.each([
    ['a repeated page size', '/api/v1/schools/school-a/sync-runs?pageSize=1&pageSize=2', '/pageSize'],
    ['a page size of 10^9', '/api/v1/schools/school-a/sync-runs?pageSize=1000000000', '/pageSize'],
    ['an empty page size', '/api/v1/schools/school-a/held-batches?pageSize=', '/pageSize'],
    ['a repeated search', '/api/v1/schools/school-a/roster/pupil?q=a&q=b', '/q'],
    ['a search over 200 characters', `/api/v1/schools/school-a/roster/pupil?q=${'a'.repeat(201)}`, '/q'],
    [
      'a page token over 512 characters',
      `/api/v1/schools/school-a/events?pageToken=${'t'.repeat(513)}`,
      '/pageToken',
    ],
  ])('%s → 400 naming the parameter, no upstream asked', async (_what, url, path) => {
    const before = mark();
    const res = await get(url);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('GATEWAY_VALIDATION_FAILED');
    expect(res.json().error.details.issues).toContainEqual(
      expect.objectContaining({ in: 'querystring', path }),
    );
    expect(upstreamSchools(before)).toEqual([]);
  });
});

describe('bodies: prototype keys, lying content types, numbers out of range — refused, nothing saved', () => {
  const settings = '/api/v1/schools/school-a/settings';
  it.each([
    [
      'a __proto__ key',
      settings,
      '{"enabled":false,"__proto__":{"enabled":true}}',
      400,
      'GATEWAY_MALFORMED_BODY',
    ],
    [
      'a constructor.prototype key',
      settings,
      '{"enabled":false,"constructor":{"prototype":{"x":1}}}',
      400,
      'GATEWAY_MALFORMED_BODY',
    ],
    ['form data labelled JSON', settings, 'enabled=false', 400, 'GATEWAY_MALFORMED_BODY'],
    ['a number beyond a double', settings, '{"scheduleMinutes":1e400}', 400, 'GATEWAY_VALIDATION_FAILED'],
    [
      'nesting 20 000 deep',
      settings,
      `{"enabled":${'['.repeat(20_000)}${']'.repeat(20_000)}}`,
      400,
      'GATEWAY_VALIDATION_FAILED',
    ],
    [
      'a version beyond 32 bits',
      '/api/v1/schools/school-a/held-batches/b-1/approve',
      '{"version":4294967296}',
      400,
      'GATEWAY_VALIDATION_FAILED',
    ],
  ])('%s → refused with its code (400), nothing saved', async (_what, url, payload, status, code) => {
    const before = mark();
    const res = await send(url.endsWith('/approve') ? 'POST' : 'PUT', url, payload);
    expect(res.statusCode).toBe(status);
    expect(res.json().error.code).toBe(code);
    expect(upstreamSchools(before)).toEqual([]);
  });

  it.each([
    'application/x-www-form-urlencoded',
    'application/merge-patch+json',
    'text/plain',
    'application/jsonx',
  ])('a body sent as %s → 415 GATEWAY_UNSUPPORTED_MEDIA_TYPE, nothing saved', async (contentType) => {
    const before = mark();
    const res = await send('PUT', settings, '{"enabled":false}', contentType);
    expect(res.statusCode).toBe(415);
    expect(res.json().error.code).toBe('GATEWAY_UNSUPPORTED_MEDIA_TYPE');
    expect(upstreamSchools(before)).toEqual([]);
  });
});

describe('the iSAMS key: in no response and no log line, whichever way a save fails', () => {
  const KEY = 'KEY-7f3q-ONLY-IN-REQUESTS-x9';
  it('refused by the connector, failing inside it, malformed, too large, invalid, or as a connection test', async () => {
    const body = JSON.stringify({ isamsUrl: 'https://school-a.isams.cloud', apiKey: KEY });
    const attempts: Array<() => ReturnType<typeof send>> = [
      () => {
        h.connector.failOn.set(
          'putSettings',
          receivedFrom(
            'connector',
            grpcStatus.INVALID_ARGUMENT,
            'CONNECTOR_INVALID_ARGUMENT',
            'apiKey is not valid',
            {
              issues: [{ path: 'apiKey', message: 'not accepted' }],
            },
          ),
        );
        return send('PUT', '/api/v1/schools/school-a/settings', body);
      },
      () => {
        h.connector.failOn.set(
          'putSettings',
          receivedFrom('connector', grpcStatus.INTERNAL, 'INTERNAL', 'boom'),
        );
        return send('PUT', '/api/v1/schools/school-a/settings', body);
      },
      () => send('PUT', '/api/v1/schools/school-a/settings', `{"apiKey":"${KEY}",}`),
      () =>
        send(
          'PUT',
          '/api/v1/schools/school-a/settings',
          JSON.stringify({ apiKey: KEY, pad: 'x'.repeat(70_000) }),
        ),
      () => send('PUT', '/api/v1/schools/school-a/settings', JSON.stringify({ apiKey: KEY, apikey: KEY })),
      () => send('PUT', '/api/v1/schools/school-a/settings', JSON.stringify({ apiKey: KEY, format: KEY })),
      () => {
        h.connector.failOn.set(
          'testConnection',
          receivedFrom('connector', grpcStatus.INTERNAL, 'INTERNAL', 'boom'),
        );
        return send('POST', '/api/v1/schools/school-a/settings/test', body);
      },
      () => send('PUT', `/api/v1/schools/school-a/settings?apiKey=${KEY}`, '{}'),
    ];
    logLines.length = 0;
    const statuses: number[] = [];
    for (const attempt of attempts) {
      const res = await attempt();
      statuses.push(res.statusCode);
      expect(res.body).not.toContain(KEY);
    }
    expect(statuses).toEqual([400, 500, 400, 413, 400, 400, 500, 200]);
    expect(logLines.length).toBeGreaterThan(attempts.length);
    expect(logLines.filter((line) => line.includes(KEY))).toEqual([]);
  });
});

describe('a client that hangs up while its decision is with the roster', () => {
  /** What the gateway's gRPC client gives when its call is cancelled (grpc-js: CANCELLED, no server code). */
  const cancelled = () =>
    upstreamError(
      new GrpcCallError(
        Object.assign(new Error('1 CANCELLED: Cancelled on client'), {
          code: grpcStatus.CANCELLED,
          details: 'Cancelled on client',
          metadata: new Metadata(),
        }) as ServiceError,
      ),
      'roster',
    );

  it('is audited with what the roster did (the approval happened), not as failed', async () => {
    const roster = h.upstream.roster as RosterGateway;
    const approve = roster.approveHeldBatch.bind(roster);
    let reached!: () => void;
    const inFlight = new Promise<void>((resolve) => (reached = resolve));
    let release!: () => void;
    const serverDone = new Promise<void>((resolve) => (release = resolve));
    // As over gRPC: the roster finishes the approval whatever the client does, while the gateway's
    // client stops waiting (CANCELLED) the moment its signal aborts.
    roster.approveHeldBatch = (ctx, ...rest) => {
      reached();
      const applied = serverDone.then(() => approve(ctx, ...rest));
      return new Promise((resolve, reject) => {
        if (ctx.signal?.aborted) reject(cancelled());
        ctx.signal?.addEventListener('abort', () => reject(cancelled()), { once: true });
        applied.then(resolve, reject);
      });
    };
    const cleanups: Array<() => void> = [];
    try {
      h.upstream.state.batch = { ...h.upstream.state.batch, status: 'pending' };
      const body = JSON.stringify({ comment: 'approved, then the laptop lid closed' });
      // The roster finishes once the connection has closed: `release()` only settles a promise, so
      // the gateway's own close listener, called in the same emit, has had its say first.
      const server = h.app.http.server;
      const onRequest = (_req: unknown, res: ServerResponse) => res.once('close', () => release());
      server.on('request', onRequest);
      cleanups.push(() => server.off('request', onRequest));
      const socket = connect(h.app.httpPort, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write(
        `POST /api/v1/schools/school-a/held-batches/batch-1/approve HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${tokenA}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      await inFlight;
      socket.destroy();
      type Entry = { outcome: string; errorCode?: string };
      let entry: Entry | null = null;
      while (entry === null) {
        entry = await h.db.db.collection<Entry>('audit_log').findOne({ action: 'held-batch.approve' });
        if (entry === null) await new Promise((r) => setImmediate(r));
      }
      expect(h.upstream.state.batch.status).toBe('approved');
      expect(entry).toMatchObject({ outcome: 'succeeded' });
      expect(entry).not.toHaveProperty('errorCode');
    } finally {
      roster.approveHeldBatch = approve;
      for (const cleanup of cleanups) cleanup();
    }
  });
});
