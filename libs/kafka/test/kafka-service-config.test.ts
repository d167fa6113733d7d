import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig } from '@isams-sync/config';
import { createLogger } from '@isams-sync/logger';
import { kafkaClientOptionsFromConfig, kafkaServiceConfig } from '@isams-sync/kafka';

const schema = z.object(kafkaServiceConfig);
const logger = createLogger({ service: 'test', level: 'silent' });

describe('kafkaServiceConfig', () => {
  it('reads plain brokers with defaults', () => {
    const cfg = loadConfig(schema, { KAFKA_BROKERS: 'a:9092, b:9092' });
    const opts = kafkaClientOptionsFromConfig(cfg, { service: 'roster', logger });
    expect(opts).toMatchObject({ brokers: ['a:9092', 'b:9092'], clientId: 'roster' });
    expect(opts.ssl).toBeUndefined();
    expect(opts.sasl).toBeUndefined();
    expect(cfg.KAFKA_TOPIC_REPLICATION_FACTOR).toBe(3);
  });

  it('maps TLS with a CA bundle and SASL/SCRAM', () => {
    const cfg = loadConfig(schema, {
      KAFKA_BROKERS: 'k:9093',
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: '/etc/kafka/ca.pem',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'svc',
      KAFKA_SASL_PASSWORD: 's3cret-value',
    });
    const opts = kafkaClientOptionsFromConfig(cfg, {
      service: 'x',
      logger,
      readFile: (p) => `PEM from ${p}`,
    });
    expect(opts.ssl).toEqual({ ca: 'PEM from /etc/kafka/ca.pem', rejectUnauthorized: true });
    expect(opts.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'svc', password: 's3cret-value' });
  });

  it('refuses half-configured SASL and a CA without TLS', () => {
    const sasl = loadConfig(schema, { KAFKA_BROKERS: 'k:1', KAFKA_SASL_MECHANISM: 'plain' });
    expect(() => kafkaClientOptionsFromConfig(sasl, { service: 'x', logger })).toThrow(/KAFKA_SASL_USERNAME/);
    const ca = loadConfig(schema, { KAFKA_BROKERS: 'k:1', KAFKA_SSL_CA_FILE: '/x.pem' });
    expect(() => kafkaClientOptionsFromConfig(ca, { service: 'x', logger })).toThrow(/KAFKA_SSL=true/);
  });

  it('never echoes the SASL password in a config error', () => {
    expect(() =>
      loadConfig(schema, {
        KAFKA_BROKERS: '',
        KAFKA_SASL_PASSWORD: 'topsecretpw',
        KAFKA_SASL_MECHANISM: 'nope',
      }),
    ).toThrow(/KAFKA_BROKERS/);
    try {
      loadConfig(schema, {
        KAFKA_BROKERS: '',
        KAFKA_SASL_PASSWORD: 'topsecretpw',
        KAFKA_SASL_MECHANISM: 'nope',
      });
    } catch (err) {
      expect(String((err as Error).message)).not.toContain('topsecretpw');
    }
  });
});
