import { describe, expect, it } from 'vitest';
import { loadCreateTopicsConfig } from '../src/cli/create-topics.config';

describe('create-topics CLI config', () => {
  it('parses brokers, replication factor and mismatch mode', () => {
    expect(
      loadCreateTopicsConfig({
        KAFKA_BROKERS: 'a:9092, b:9092',
        KAFKA_REPLICATION_FACTOR: '3',
        KAFKA_TOPIC_MISMATCH: 'warn',
      }),
    ).toMatchObject({
      KAFKA_BROKERS: ['a:9092', 'b:9092'],
      KAFKA_REPLICATION_FACTOR: 3,
      KAFKA_TOPIC_MISMATCH: 'warn',
    });
  });

  it('defaults to the broker replication factor and failing on mismatch', () => {
    const config = loadCreateTopicsConfig({ KAFKA_BROKERS: '127.0.0.1:19092' });
    expect(config.KAFKA_REPLICATION_FACTOR).toBeUndefined();
    expect(config.KAFKA_TOPIC_MISMATCH).toBe('error');
  });

  it('lists every bad variable', () => {
    expect(() => loadCreateTopicsConfig({ KAFKA_REPLICATION_FACTOR: '0' })).toThrow(
      /KAFKA_BROKERS[\s\S]*KAFKA_REPLICATION_FACTOR|KAFKA_REPLICATION_FACTOR[\s\S]*KAFKA_BROKERS/,
    );
  });
});
