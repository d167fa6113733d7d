import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SchoolApiClient } from './school-client';

// A stand-in gateway: answers 503 `busyTimes` times per path, then 200 — to check the client's retry rule.
const hits = new Map<string, number>();
let busyTimes = 0;
const server = createServer((req, res) => {
  const key = `${req.method} ${req.url}`;
  const n = (hits.get(key) ?? 0) + 1;
  hits.set(key, n);
  if (n <= busyTimes) {
    res.writeHead(503).end('{"error":{"code":"GATEWAY_UPSTREAM_UNAVAILABLE"}}');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
});
let client: SchoolApiClient;

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  client = new SchoolApiClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 's1', 't');
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('SchoolApiClient.call', () => {
  it('retries a GET answered busy (503) and returns the later answer', async () => {
    busyTimes = 1;
    hits.clear();
    expect(await client.call('GET', '/sync-runs')).toEqual({ ok: true });
    expect(hits.get('GET /api/v1/schools/s1/sync-runs')).toBe(2);
  });

  it('never retries a write', async () => {
    busyTimes = 1;
    hits.clear();
    await expect(client.call('PUT', '/settings', { a: 1 })).rejects.toThrow(/HTTP 503/);
    expect(hits.get('PUT /api/v1/schools/s1/settings')).toBe(1);
  });
});
