import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVICE_CALLS, serviceKeyringFrom, verifyServiceToken } from '@isams-sync/grpc';
import { afterEach, describe, expect, it } from 'vitest';
import { operatorToken, secretManifest } from './service-identity';

const HELPERS = join(import.meta.dirname, '../../charts/isams-sync/templates/_helpers.tpl');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('service identity (chart and tools)', () => {
  it('the chart knows the same caller→callee pairs as libs/grpc SERVICE_CALLS', () => {
    const tpl = readFileSync(HELPERS, 'utf8');
    const body = /define "isams-sync\.serviceCalls" -}}\n([^\n]*)\n/.exec(tpl)?.[1];
    expect(body?.split(' ').map((pair) => pair.split(':'))).toEqual(SERVICE_CALLS.map((c) => [...c]));
  });

  it('prints a Secret with a fresh ≥ 32-byte key for every pair', () => {
    const yaml = secretManifest('isams-sync-service-identity', 'isams-sync');
    const data = Object.fromEntries(
      [...yaml.matchAll(/^ {2}([a-z]+-to-[a-z]+\.key): (\S+)$/gm)].map((m) => [m[1], m[2]]),
    );
    expect(Object.keys(data)).toEqual(SERVICE_CALLS.map(([a, b]) => `${a}-to-${b}.key`));
    for (const value of Object.values(data)) {
      const key = Buffer.from(Buffer.from(value!, 'base64').toString('utf8'), 'base64');
      expect(key.length).toBe(32);
    }
    expect(secretManifest('x')).not.toEqual(secretManifest('x'));
  });

  it('mints an operator token the connector accepts for the named method only', () => {
    const dir = mkdtempSync(join(tmpdir(), 'op-token-'));
    dirs.push(dir);
    const key = Buffer.alloc(32, 7);
    const keyFile = join(dir, 'operator-to-connector.key');
    writeFileSync(keyFile, `${key.toString('base64')}\n`);
    const method = '/isams_sync.connector.v1.ConnectorService/RotateKeyEncryption';
    const token = operatorToken({
      keyFile,
      method,
      as: 'operator',
      to: 'connector',
      tenant: '*',
      ttlSeconds: 300,
    });
    const connector = serviceKeyringFrom('connector', { 'operator-to-connector': [key] });
    expect(verifyServiceToken(connector, token, method)).toEqual({ service: 'operator' });
    expect(() =>
      verifyServiceToken(connector, token, '/isams_sync.connector.v1.ConnectorService/GetSettings'),
    ).toThrow(expect.objectContaining({ code: 'GRPC_SERVICE_TOKEN_INVALID' }));
  });
});
