import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '@isams-sync/logger';
import {
  createTestDatabase,
  eventually,
  failedStartAttempts,
  getTestInfra,
  httpStatus,
  startTcpGate,
} from '@isams-sync/testing';
import type { TcpGate, TestDatabase } from '@isams-sync/testing';
import { createGatewayApp } from '../../src/app';
import type { GatewayApp } from '../../src/app';
import { OPERATOR_TOKEN, gatewayTestConfig } from '../support/gateway-harness';

/**
 * docs/deploy.md › A service not ready: a gateway started while MongoDB is unreachable (a rolling
 * deploy during an outage) does not fail its start — it is live and not ready, and becomes ready
 * and serves by itself once the database answers.
 */
describe('gateway started while MongoDB is unreachable', () => {
  let gate: TcpGate | undefined;
  let db: TestDatabase | undefined;
  let app: GatewayApp | undefined;
  afterAll(async () => {
    await app?.stop();
    await gate?.close();
    await db?.drop();
  });

  it('is live and not ready while the database refuses, then ready and serving once it answers', async () => {
    const infra = getTestInfra();
    db = await createTestDatabase('gw');
    gate = await startTcpGate(new URL(infra.mongoUrl).host);
    const lines: string[] = [];
    const logger = createLogger({
      service: 'gateway',
      level: 'info',
      destination: { write: (l) => lines.push(l) },
    });
    const config = gatewayTestConfig(
      { url: infra.mongoUrl.replace(new URL(infra.mongoUrl).host, gate.address), name: db.name },
      { HTTP_HOST: '127.0.0.1', GATEWAY_OPERATOR_HOST: '127.0.0.1', READINESS_INTERVAL_MS: '500' },
    );
    const detail = () => lines.join('');
    const created = (app = await createGatewayApp(config, { logger }));
    let startFailure: unknown;
    let started = false;
    created.start().then(
      () => (started = true),
      (err: unknown) => (startFailure = err),
    );
    const ops = (path: string) => httpStatus(`http://127.0.0.1:${created.opsPort}${path}`);

    await eventually(
      async () => {
        if (startFailure !== undefined) throw new Error(`the start failed: ${String(startFailure)}`);
        return created.opsPort > 0 && (await ops('/health')) === 200;
      },
      'ops /health 200',
      { timeoutMs: 60_000, detail },
    );
    await eventually(() => failedStartAttempts(lines).length >= 2, 'two failed start-up attempts logged', {
      timeoutMs: 120_000,
      detail,
    });
    expect(startFailure).toBeUndefined();
    expect(started).toBe(false);
    expect(await ops('/ready')).toBe(503);
    expect(failedStartAttempts(lines).every((l) => l.includes('MONGO_UNAVAILABLE'))).toBe(true);

    gate.open();
    await eventually(() => started, 'the start finished', { timeoutMs: 120_000, detail });
    await eventually(async () => (await ops('/ready')) === 200, 'ready', { timeoutMs: 60_000, detail });
    const issued = await created.operatorHttp!.inject({
      method: 'POST',
      url: '/api/v1/operator/tokens',
      headers: { authorization: `Bearer ${OPERATOR_TOKEN}` },
      payload: { tenantId: 'school-a', label: 'after the outage' },
    });
    expect(issued.statusCode).toBe(201);
  }, 300_000);
});
