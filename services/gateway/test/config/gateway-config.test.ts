import { describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../../src/config';

const base = {
  MONGO_URL: 'mongodb://127.0.0.1:1/',
  CONNECTOR_GRPC_ADDRESS: '127.0.0.1:1',
  ROSTER_GRPC_ADDRESS: '127.0.0.1:1',
  BOOKINGS_GRPC_ADDRESS: '127.0.0.1:1',
  GATEWAY_TOKEN_PEPPER: 'pepper-for-tests-0123456789abcdef0123',
  GRPC_IDENTITY_DIR: '/run/secrets/isams-sync-service-identity',
};

describe('gateway configuration (security)', () => {
  it('refuses GATEWAY_TRUST_PROXY=true: it would trust any X-Forwarded-For a client sends', () => {
    expect(() => loadGatewayConfig({ ...base, GATEWAY_TRUST_PROXY: 'true' })).toThrow(
      /GATEWAY_TRUST_PROXY[\s\S]*number of proxy hops/,
    );
  });

  it('takes a hop count or a list of proxy addresses/CIDRs; off by default', () => {
    expect(loadGatewayConfig(base).GATEWAY_TRUST_PROXY).toBe(false);
    expect(loadGatewayConfig({ ...base, GATEWAY_TRUST_PROXY: 'false' }).GATEWAY_TRUST_PROXY).toBe(false);
    expect(loadGatewayConfig({ ...base, GATEWAY_TRUST_PROXY: '2' }).GATEWAY_TRUST_PROXY).toBe(2);
    expect(
      loadGatewayConfig({ ...base, GATEWAY_TRUST_PROXY: '10.0.0.0/8, 2001:db8::/32,192.0.2.7' })
        .GATEWAY_TRUST_PROXY,
    ).toEqual(['10.0.0.0/8', '2001:db8::/32', '192.0.2.7']);
    expect(() => loadGatewayConfig({ ...base, GATEWAY_TRUST_PROXY: '10.0.0.0/33' })).toThrow(
      /GATEWAY_TRUST_PROXY/,
    );
    expect(() => loadGatewayConfig({ ...base, GATEWAY_TRUST_PROXY: 'ingress.local' })).toThrow(
      /GATEWAY_TRUST_PROXY/,
    );
  });

  it('requires issuer and audience whenever JWTs are accepted', () => {
    const keys = JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }] });
    let message = '';
    try {
      loadGatewayConfig({ ...base, GATEWAY_JWT_PUBLIC_KEYS: keys });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('GATEWAY_JWT_ISSUER');
    expect(message).toContain('GATEWAY_JWT_AUDIENCE');
    expect(
      loadGatewayConfig({
        ...base,
        GATEWAY_JWT_PUBLIC_KEYS: keys,
        GATEWAY_JWT_ISSUER: 'https://id.example',
        GATEWAY_JWT_AUDIENCE: 'isams-sync',
      }).GATEWAY_JWT_AUDIENCE,
    ).toBe('isams-sync');
  });

  it('has non-zero server timeouts and SSE caps by default', () => {
    const c = loadGatewayConfig(base);
    expect(c.GATEWAY_HEADERS_TIMEOUT_MS).toBeGreaterThan(0);
    expect(c.GATEWAY_REQUEST_TIMEOUT_MS).toBeGreaterThan(0);
    expect(c.GATEWAY_KEEP_ALIVE_TIMEOUT_MS).toBeGreaterThan(0);
    expect(c.GATEWAY_CONNECTION_TIMEOUT_MS).toBeGreaterThan(c.GATEWAY_TEST_CONNECTION_TIMEOUT_MS);
    expect(c.GATEWAY_SSE_MAX_LIFETIME_MS).toBeGreaterThan(0);
    expect(c.GATEWAY_SSE_MAX_STREAMS).toBeGreaterThan(0);
  });

  it('refuses a connection timeout that would cut a connection test short', () => {
    expect(() =>
      loadGatewayConfig({
        ...base,
        GATEWAY_CONNECTION_TIMEOUT_MS: '60s',
        GATEWAY_TEST_CONNECTION_TIMEOUT_MS: '120s',
      }),
    ).toThrow(/GATEWAY_CONNECTION_TIMEOUT_MS/);
  });
});
