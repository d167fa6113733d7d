import { describe, expect, it } from 'vitest';
import { loadConnectorConfig } from '../../src/config';

const base = {
  MONGO_URL: 'mongodb://127.0.0.1:1/',
  KAFKA_BROKERS: '127.0.0.1:1',
  CONNECTOR_KEK: 'a-key-encryption-key-of-at-least-40-characters',
  GRPC_IDENTITY_DIR: '/run/secrets/isams-sync-service-identity',
};

describe('connector configuration (egress)', () => {
  it('is production-safe by default: no private egress, port 443 only, any public host', () => {
    const c = loadConnectorConfig(base);
    expect(c.CONNECTOR_ALLOW_PRIVATE_EGRESS).toBe(false);
    expect(c.CONNECTOR_ISAMS_PORTS).toEqual([443]);
    expect(c.CONNECTOR_ISAMS_HOST_SUFFIXES).toBeUndefined();
    expect(c.ISAMS_ALLOW_INSECURE_LOOPBACK).toBe(false);
  });

  it('normalises host suffixes to a leading dot, lower case, and refuses anything but host-name suffixes', () => {
    const c = loadConnectorConfig({ ...base, CONNECTOR_ISAMS_HOST_SUFFIXES: '.iSAMS.cloud, isams.co.uk' });
    expect(c.CONNECTOR_ISAMS_HOST_SUFFIXES).toEqual(['.isams.cloud', '.isams.co.uk']);
    expect(() => loadConnectorConfig({ ...base, CONNECTOR_ISAMS_HOST_SUFFIXES: '*.isams.cloud' })).toThrow(
      /CONNECTOR_ISAMS_HOST_SUFFIXES/,
    );
  });

  it('takes a list of ports and refuses anything else', () => {
    expect(
      loadConnectorConfig({ ...base, CONNECTOR_ISAMS_PORTS: '443, 8443' }).CONNECTOR_ISAMS_PORTS,
    ).toEqual([443, 8443]);
    for (const bad of ['0', '65536', 'https', '443,x'])
      expect(() => loadConnectorConfig({ ...base, CONNECTOR_ISAMS_PORTS: bad }), bad).toThrow(
        /CONNECTOR_ISAMS_PORTS/,
      );
  });

  it('refuses ISAMS_ALLOW_INSECURE_LOOPBACK without CONNECTOR_ALLOW_PRIVATE_EGRESS (loopback is private)', () => {
    expect(() => loadConnectorConfig({ ...base, ISAMS_ALLOW_INSECURE_LOOPBACK: 'true' })).toThrow(
      /ISAMS_ALLOW_INSECURE_LOOPBACK[\s\S]*CONNECTOR_ALLOW_PRIVATE_EGRESS=true/,
    );
    const dev = loadConnectorConfig({
      ...base,
      ISAMS_ALLOW_INSECURE_LOOPBACK: 'true',
      CONNECTOR_ALLOW_PRIVATE_EGRESS: 'true',
    });
    expect(dev.CONNECTOR_ALLOW_PRIVATE_EGRESS).toBe(true);
  });
});
