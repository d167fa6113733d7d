/**
 * The gateway's side of the key binding and the connection-test caps (issue #15): the connector's
 * new errors reach the admin with the right HTTP status (and `Retry-After`), and every settings save
 * is audited with the old and new host, whether the connector accepted it or not.
 */
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayHarness } from '../support/gateway-harness';
import type { GatewayHarness } from '../support/gateway-harness';
import { receivedFrom } from '../support/upstream-errors';

/** The connector's error as the gateway's gRPC client receives it (code, stable code, details). */
const fromConnector = (code: number, errorCode: string, message: string, details?: object) =>
  receivedFrom('connector', code, errorCode, message, details);

describe('gateway: key binding and connection-test limits', () => {
  let h: GatewayHarness;
  let token: string;
  let tokenId: string;

  beforeAll(async () => {
    h = await startGatewayHarness({ GATEWAY_RATE_LIMIT_EXPENSIVE_PER_MINUTE: '100' });
    ({ token, tokenId } = await h.issueToken('school-k'));
  });
  afterAll(async () => h?.close());

  const send = (method: 'PUT' | 'POST', url: string, payload: object) =>
    h.request(token, method, url, payload);
  const auditEntries = async () =>
    (await h.request(token, 'GET', '/api/v1/schools/school-k/audit-log')).json().entries as Array<
      Record<string, unknown>
    >;

  it('a new address without the key: 400 CONNECTOR_KEY_REQUIRED_FOR_NEW_ADDRESS, audited as a refused host change', async () => {
    const first = await send('PUT', '/api/v1/schools/school-k/settings', {
      isamsUrl: 'https://school-k.isams.cloud',
      apiKey: 'AAAA-BBBB-CCCC-DDDD',
    });
    expect(first.statusCode).toBe(200);
    h.connector.failOn.set(
      'putSettings',
      fromConnector(
        status.INVALID_ARGUMENT,
        'CONNECTOR_KEY_REQUIRED_FOR_NEW_ADDRESS',
        'Changing the iSAMS address requires entering the API key again: the stored key is only ever sent to the address it was entered for.',
      ) as never,
    );
    const res = await send('PUT', '/api/v1/schools/school-k/settings', {
      isamsUrl: 'https://attacker.example:8443/isams',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({
      code: 'CONNECTOR_KEY_REQUIRED_FOR_NEW_ADDRESS',
      message: expect.stringContaining('requires entering the API key again'),
    });
    const [refused, saved] = await auditEntries();
    expect(refused).toMatchObject({
      action: 'settings.update',
      actor: `token:${tokenId}`,
      outcome: 'failed',
      errorCode: 'CONNECTOR_KEY_REQUIRED_FOR_NEW_ADDRESS',
      target: {
        keyChanged: false,
        previousOrigin: 'https://school-k.isams.cloud',
        newOrigin: 'https://attacker.example:8443',
        hostChanged: true,
      },
    });
    expect(saved).toMatchObject({
      outcome: 'succeeded',
      target: { newOrigin: 'https://school-k.isams.cloud' },
    });
    expect(JSON.stringify(await auditEntries())).not.toContain('AAAA-BBBB');
  });

  it('an address change with the key is audited with both hosts', async () => {
    const res = await send('PUT', '/api/v1/schools/school-k/settings', {
      isamsUrl: 'https://new-host.isams.cloud',
      apiKey: 'EEEE-FFFF-GGGG-HHHH',
    });
    expect(res.statusCode).toBe(200);
    const [entry] = await auditEntries();
    expect(entry).toMatchObject({
      outcome: 'succeeded',
      target: {
        keyChanged: true,
        previousOrigin: 'https://school-k.isams.cloud',
        newOrigin: 'https://new-host.isams.cloud',
        hostChanged: true,
      },
    });
    expect(JSON.stringify(entry)).not.toContain('EEEE-FFFF');
  });

  it.each([
    ['CONNECTOR_KEY_REQUIRED_FOR_NEW_ADDRESS', 400, status.INVALID_ARGUMENT, undefined, undefined],
    ['CONNECTOR_TEST_ALREADY_RUNNING', 409, status.ABORTED, undefined, undefined],
    ['CONNECTOR_KEY_DECRYPT_FAILED', 409, status.FAILED_PRECONDITION, { kekId: 'k1' }, undefined],
    [
      'CONNECTOR_TEST_CAPACITY_EXHAUSTED',
      429,
      status.RESOURCE_EXHAUSTED,
      { limit: 4, retryAfterSeconds: 30 },
      '30',
    ],
  ])(
    'test connection refused by the connector with %s → HTTP %i',
    async (errorCode, http, code, details, retryAfter) => {
      h.connector.failOn.set('testConnection', fromConnector(code, errorCode, 'refused', details) as never);
      const res = await send('POST', '/api/v1/schools/school-k/settings/test', {
        isamsUrl: 'https://elsewhere.example',
      });
      expect(res.statusCode).toBe(http);
      expect(res.json().error.code).toBe(errorCode);
      expect(res.headers['retry-after']).toBe(retryAfter);
    },
  );
});
