import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { ConnectorApp } from '../../src/app';
import { connectorClient, connectorTest, connectorTestEnv } from '../support/connector-harness';
import type { ConnectorProcess, ConnectorTestEnv } from '../support/connector-harness';

// The harness itself: a test that times out must not leave a connector behind (vitest keeps running
// the body of a timed-out test; a connector it started would take the next tests' runs). The second
// test checks what the first, which times out on purpose, left.
describe('connector test harness: the connectors of a test that timed out', () => {
  let env: ConnectorTestEnv;
  let timedOut: { app?: ConnectorApp; proc?: ConnectorProcess; lateStart?: unknown } = {};

  beforeAll(() => {
    env = connectorTestEnv();
  });
  afterAll(async () => {
    await env?.dropDatabase();
  });

  connectorTest(
    'a test that times out while its connectors run (expected to fail: it times out)',
    { timeout: 15_000, fails: true },
    async ({ connectors }) => {
      timedOut = {};
      timedOut.app = await connectors.start(env.env({ SCHEDULER_ENABLED: 'false' }));
      timedOut.proc = await connectors.startProcess(env.env({ SCHEDULER_ENABLED: 'false' }));
      // Still running when the test times out; then it tries to start one more connector.
      await new Promise<void>((resolve) => connectors.signal.addEventListener('abort', () => resolve()));
      timedOut.lateStart = await connectors.start(env.env({ SCHEDULER_ENABLED: 'false' })).then(
        () => 'started',
        (err: unknown) => err,
      );
    },
  );

  connectorTest(
    'the next test starts with none of them running, and a late start was refused',
    { timeout: 60_000 },
    async () => {
      expect(timedOut.app).toBeDefined();
      const c = connectorClient(timedOut.app!.grpcPort);
      try {
        await expect(c.getEgressInfo({}, c.md('fleet'))).rejects.toThrow(/UNAVAILABLE|ECONNREFUSED/);
      } finally {
        c.close();
      }
      await expect(
        Promise.race([timedOut.proc!.exited.then(() => 'exited'), new Promise((r) => setTimeout(r, 1_000))]),
      ).resolves.toBe('exited');
      expect(timedOut.lateStart).toBeInstanceOf(Error);
      expect((timedOut.lateStart as Error).message).toMatch(/the test ended/);
    },
  );
});
