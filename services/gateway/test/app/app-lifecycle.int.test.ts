import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@isams-sync/logger';
import { createTestDatabase, eventually, testServiceIdentityDir } from '@isams-sync/testing';
import type { TestDatabase } from '@isams-sync/testing';
import { createMongoAuditLog } from '../../src/adapters/mongo/audit-log.repository';
import { createGatewayApp } from '../../src/app';
import { loadGatewayConfig } from '../../src/config';

/** A logger whose lines are kept (the Mongo connection logs `mongo connection closed` when closed). */
function capturingLogger() {
  const lines: string[] = [];
  const logger = createLogger({
    service: 'gateway',
    level: 'info',
    destination: { write: (l) => lines.push(l) },
  });
  return { logger, messages: () => lines.map((l) => (JSON.parse(l) as { msg: string }).msg) };
}

function gatewayConfig(db: TestDatabase, env: Record<string, string> = {}) {
  return loadGatewayConfig({
    MONGO_URL: db.url,
    MONGO_DB: db.name,
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: '0',
    GATEWAY_OPERATOR_HOST: '127.0.0.1',
    GATEWAY_OPERATOR_PORT: '0',
    OPS_PORT: '0',
    CONNECTOR_GRPC_ADDRESS: '127.0.0.1:1',
    ROSTER_GRPC_ADDRESS: '127.0.0.1:1',
    BOOKINGS_GRPC_ADDRESS: '127.0.0.1:1',
    GRPC_IDENTITY_DIR: testServiceIdentityDir(),
    GATEWAY_TOKEN_PEPPER: 'pepper-for-tests-0123456789abcdef0123',
    GATEWAY_OPERATOR_TOKEN: 'operator-token-for-tests-0123456789abcdef',
    ...env,
  });
}

/** A port some other listener holds. */
async function occupiedPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { port: address.port, server };
}

describe('gateway app start and stop', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('closes the database connection when creating the app fails after connecting', async () => {
    const db = await createTestDatabase('gw');
    cleanups.push(() => db.drop());
    const { logger, messages } = capturingLogger();
    const missingKeys = join(tmpdir(), `no-such-identity-dir-${process.pid}`);
    await expect(
      createGatewayApp(gatewayConfig(db, { GRPC_IDENTITY_DIR: missingKeys }), { logger }),
    ).rejects.toThrow(/Cannot read the service identity key directory/);
    expect(messages()).toContain('mongo connection closed');
  });

  it('stops what a start that failed half-way opened: the ops server, the public listener and the database', async () => {
    const db = await createTestDatabase('gw');
    cleanups.push(() => db.drop());
    const held = await occupiedPort();
    cleanups.push(() => new Promise((resolve) => held.server.close(resolve)));
    const { logger, messages } = capturingLogger();
    const app = await createGatewayApp(gatewayConfig(db, { GATEWAY_OPERATOR_PORT: String(held.port) }), {
      logger,
    });
    await expect(app.start()).rejects.toThrow(/EADDRINUSE/);
    expect(app.http.server.listening).toBe(true);
    expect(app.opsPort).toBeGreaterThan(0);
    await app.stop();
    expect(await fetch(`http://127.0.0.1:${app.opsPort}/health`).catch(() => 'closed')).toBe('closed');
    expect(app.http.server.listening).toBe(false);
    expect(messages()).toContain('mongo connection closed');
  });

  it('the running gateway drops audit-log entries older than AUDIT_RETENTION_DAYS and keeps the rest', async () => {
    const db = await createTestDatabase('gw');
    cleanups.push(() => db.drop());
    const day = 86_400_000;
    let at = new Date(Date.now() - 31 * day);
    const log = createMongoAuditLog(db.db, () => at);
    await log.record({
      tenantId: 'school-a',
      action: 'settings.update',
      actor: 'a',
      requestId: 'r1',
      outcome: 'succeeded',
    });
    at = new Date(Date.now() - 29 * day);
    await log.record({
      tenantId: 'school-a',
      action: 'sync.trigger',
      actor: 'a',
      requestId: 'r2',
      outcome: 'succeeded',
    });
    const app = await createGatewayApp(gatewayConfig(db, { AUDIT_RETENTION_DAYS: '30' }), {
      logger: createLogger({ service: 'gateway', level: 'silent' }),
      retentionIntervalMs: 100,
    });
    cleanups.push(() => app.stop());
    await app.start();
    await eventually(
      async () => ((await log.list('school-a', 10)).length === 1 ? true : undefined),
      'the old entry dropped',
    );
    expect((await log.list('school-a', 10)).map((e) => e.action)).toEqual(['sync.trigger']);
  });
});
