/**
 * Connection tests are capped (issue #15): one at a time per school across replicas, and at most
 * CONNECTOR_MAX_CONCURRENT_TESTS at once per replica. The iSAMS host holds every answer open until
 * the test releases it, so which tests are running is decided by the test, not by timing.
 */
import { referenceSampleDocument } from '@isams-sync/isams/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@isams-sync/testing';
import type { ConnectorApp } from '../../src/app';
import { connectorClient, connectorTestEnv, startConnector, grpcErrorOf } from '../support/connector-harness';
import type { ConnectorClient, ConnectorTestEnv } from '../support/connector-harness';
import { startOddIsamsHost, startWellBehavedIsamsHost } from '../support/odd-isams-host';
import type { OddIsamsHost, WellBehavedHost } from '../support/odd-isams-host';

const KEY = '{D0D0D0D0-1111-4222-8333-444455556666}';
const SCHOOLS = ['cap-a', 'cap-b', 'cap-c'] as const;

describe('connector: connection tests are capped per school and per replica', () => {
  let host: WellBehavedHost;
  let refusing: OddIsamsHost;
  let env: ConnectorTestEnv;
  let one: ConnectorApp;
  let two: ConnectorApp;
  let c1: ConnectorClient;
  let c2: ConnectorClient;

  /** Waits until the host holds `n` requests in total (each a running test). */
  const hostHasReceived = (n: number) =>
    eventually(async () => host.requests.length >= n && host.holding(), `${n} requests held by the host`);

  beforeAll(async () => {
    host = await startWellBehavedIsamsHost(referenceSampleDocument());
    refusing = await startOddIsamsHost((socket) => {
      socket.end('HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
    env = connectorTestEnv();
    const config = env.env({ SCHEDULER_ENABLED: 'false', CONNECTOR_MAX_CONCURRENT_TESTS: '2' });
    one = await startConnector(config);
    two = await startConnector(config);
    c1 = connectorClient(one.grpcPort);
    c2 = connectorClient(two.grpcPort);
    for (const school of SCHOOLS)
      await c1.putSettings({ isamsUrl: host.url, apiKey: KEY, enabled: true }, c1.md(school));
  });
  afterAll(async () => {
    host?.release();
    c1?.close();
    c2?.close();
    await one?.stop();
    await two?.stop();
    await host?.close();
    await refusing?.close();
    await env?.dropDatabase();
  });

  it('a second test for the same school is refused while one runs, on this replica and on another; then it can test again', async () => {
    host.hold();
    const before = host.requests.length;
    const first = c1.testConnection({}, c1.md('cap-a'));
    await hostHasReceived(before + 1);

    const same = await grpcErrorOf(c1.testConnection({}, c1.md('cap-a')));
    expect(same.errorCode).toBe('CONNECTOR_TEST_ALREADY_RUNNING');
    expect(same.kind).toBe('aborted');
    expect(same.grpcMessage).toContain('already running');
    const elsewhere = await grpcErrorOf(c2.testConnection({}, c2.md('cap-a')));
    expect(elsewhere.errorCode).toBe('CONNECTOR_TEST_ALREADY_RUNNING');
    // Another school is not held up by it.
    const other = c2.testConnection({}, c2.md('cap-b'));
    await hostHasReceived(before + 2);
    expect(host.requests).toHaveLength(before + 2);

    host.release();
    expect((await first).ok).toBe(true);
    expect((await other).ok).toBe(true);
    expect((await c1.testConnection({}, c1.md('cap-a'))).ok).toBe(true);
  });

  it('over CONNECTOR_MAX_CONCURRENT_TESTS on one replica the next test is refused with a retry hint; another replica still serves it; the slots come back', async () => {
    host.hold();
    const before = host.requests.length;
    const a = c1.testConnection({}, c1.md('cap-a'));
    const b = c1.testConnection({}, c1.md('cap-b'));
    await hostHasReceived(before + 2);

    const full = await grpcErrorOf(c1.testConnection({}, c1.md('cap-c')));
    expect(full.errorCode).toBe('CONNECTOR_TEST_CAPACITY_EXHAUSTED');
    expect(full.kind).toBe('resource_exhausted');
    expect(full.details).toEqual({ limit: 2, retryAfterSeconds: 30 });
    expect(host.requests).toHaveLength(before + 2);
    // A refused test took no slot of its school: the other replica runs it.
    const onTwo = c2.testConnection({}, c2.md('cap-c'));
    await hostHasReceived(before + 3);

    host.release();
    for (const r of await Promise.all([a, b, onTwo])) expect(r.ok).toBe(true);
    expect((await c1.testConnection({}, c1.md('cap-c'))).ok).toBe(true);
  });

  it('a test that fails (the host answers 500) gives its slots back', async () => {
    host.release();
    for (let i = 0; i < 3; i++) {
      const failed = await c1.testConnection({ isamsUrl: refusing.url, apiKey: KEY }, c1.md('cap-a'));
      expect(failed.ok).toBe(false);
      expect(failed.error?.code).toMatch(/^ISAMS_/);
    }
    expect(refusing.requests.length).toBeGreaterThan(0);
    const results = await Promise.all([
      c1.testConnection({}, c1.md('cap-a')),
      c1.testConnection({}, c1.md('cap-b')),
    ]);
    for (const r of results) expect(r.ok).toBe(true);
  });
});
