import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminApiClient, AdminApiError } from '../src/admin-api-client';

// A stand-in gateway: answers 503 `busyTimes` times per path, then 200 — to check the client's retry rule.
const hits = new Map<string, number>();
let busyTimes = 0;
const server = createServer((req, res) => {
  const key = `${req.method} ${req.url}`;
  const n = (hits.get(key) ?? 0) + 1;
  hits.set(key, n);
  if (req.headers.authorization !== 'Bearer t') {
    res.writeHead(401).end('{"error":{"code":"GATEWAY_TOKEN_INVALID"}}');
    return;
  }
  if (n <= busyTimes) {
    res.writeHead(503).end('{"error":{"code":"GATEWAY_UPSTREAM_UNAVAILABLE"}}');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
});
let url = '';

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('AdminApiClient.call', () => {
  const retrying = () => new AdminApiClient(url, 's1', 't', { busyReads: { attempts: 6, delayMs: 1 } });

  it('retries a GET answered busy (503) when asked to, and returns the later answer', async () => {
    busyTimes = 1;
    hits.clear();
    expect(await retrying().call('GET', '/sync-runs')).toEqual({ ok: true });
    expect(hits.get('GET /api/v1/schools/s1/sync-runs')).toBe(2);
  });

  it('never retries a write', async () => {
    busyTimes = 1;
    hits.clear();
    await expect(retrying().call('PUT', '/settings', { a: 1 })).rejects.toThrow(/HTTP 503/);
    expect(hits.get('PUT /api/v1/schools/s1/settings')).toBe(1);
  });

  it('retries nothing by default and reports the status and body', async () => {
    busyTimes = 1;
    hits.clear();
    const err = await new AdminApiClient(url, 's1', 't').call('GET', '/sync-runs').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AdminApiError);
    expect(err).toMatchObject({ status: 503, body: '{"error":{"code":"GATEWAY_UPSTREAM_UNAVAILABLE"}}' });
    expect(hits.get('GET /api/v1/schools/s1/sync-runs')).toBe(1);
  });

  it('calls with the token given last', async () => {
    busyTimes = 0;
    const client = new AdminApiClient(url, 's1', 'old');
    await expect(client.call('GET', '/settings')).rejects.toMatchObject({ status: 401 });
    client.useToken('t');
    expect(await client.call('GET', '/settings')).toEqual({ ok: true });
  });
});

describe('AdminApiClient.watchRun', () => {
  // A stand-in for the gateway's `GET …/sync-runs/<id>/events`: each request gets the next script.
  const scripts: string[][] = [];
  const events = createServer((_req, res) => {
    const script = scripts.shift() ?? [];
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    // 'hang': the stream stays open after the frames (a run that does not end).
    for (const frame of script) if (frame !== 'hang') res.write(frame);
    if (!script.includes('hang')) res.end();
  });
  let eventsUrl = '';
  beforeAll(async () => {
    await new Promise<void>((r) => events.listen(0, '127.0.0.1', r));
    eventsUrl = `http://127.0.0.1:${(events.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    events.closeAllConnections();
    return new Promise<void>((r) => events.close(() => r()));
  });
  const run = (status: string, terminal = false) =>
    `event: run\ndata: ${JSON.stringify({ syncRunId: 'r1', status, terminal })}\n\n`;

  it('follows the run to its end across frames split anywhere, reopening a stream that expired', async () => {
    const first = run('requested') + ': keep-alive\n\n' + run('fetching');
    scripts.push(
      [first.slice(0, 17), first.slice(17, 60), first.slice(60)],
      ['event: error\ndata: {"code":"GATEWAY_STREAM_EXPIRED","message":"m"}\n\n'],
      [run('fetching'), run('unchanged', true), 'event: end\ndata: {}\n\n'],
    );
    const seen: string[] = [];
    const last = await new AdminApiClient(eventsUrl, 's1', 't').watchRun('r1', {
      onStatus: (s) => seen.push(s),
    });
    expect(last).toMatchObject({ status: 'unchanged', terminal: true });
    expect(seen).toEqual(['requested', 'fetching', 'unchanged']);
  });

  it('fails on the stream’s own error, and times out as EventuallyTimedOut', async () => {
    scripts.push(['event: error\ndata: {"code":"GATEWAY_TOKEN_INVALID","message":"m"}\n\n']);
    await expect(new AdminApiClient(eventsUrl, 's1', 't').watchRun('r1')).rejects.toThrow(
      /GATEWAY_TOKEN_INVALID/,
    );
    scripts.push([run('fetching'), 'hang']);
    await expect(
      new AdminApiClient(eventsUrl, 's1', 't').watchRun('r1', { timeoutMs: 300 }),
    ).rejects.toMatchObject({ name: 'EventuallyTimedOut', timeoutMs: 300 });
  });
});
