import { RAW_ELEMENT_MAX_DEPTH } from '@isams-sync/events';
import { describe, expect, it } from 'vitest';
import { loadConnectorConfig } from '../../src/config';

const base = {
  MONGO_URL: 'mongodb://127.0.0.1:1/',
  KAFKA_BROKERS: '127.0.0.1:1',
  CONNECTOR_KEK: 'a-key-encryption-key-of-at-least-40-characters',
  GRPC_IDENTITY_DIR: '/run/secrets/isams-sync-service-identity',
};

describe('connector configuration (parser limits)', () => {
  // A record sits three levels below the document's root (iSAMS › module › container), and a raw
  // chunk's records may nest at most RAW_ELEMENT_MAX_DEPTH: a deeper document limit would let the
  // connector read records it then cannot publish.
  it(`keeps ISAMS_MAX_DEPTH within what a raw chunk may carry (${RAW_ELEMENT_MAX_DEPTH + 3})`, () => {
    expect(loadConnectorConfig(base).ISAMS_MAX_DEPTH).toBe(64);
    expect(
      loadConnectorConfig({ ...base, ISAMS_MAX_DEPTH: String(RAW_ELEMENT_MAX_DEPTH + 3) }).ISAMS_MAX_DEPTH,
    ).toBe(RAW_ELEMENT_MAX_DEPTH + 3);
    expect(() =>
      loadConnectorConfig({ ...base, ISAMS_MAX_DEPTH: String(RAW_ELEMENT_MAX_DEPTH + 4) }),
    ).toThrow(/ISAMS_MAX_DEPTH/);
  });
});
