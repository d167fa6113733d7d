import { describe, expect, it } from 'vitest';
import { loadBookingsConfig } from '../../src/config';

const base = {
  ROSTER_GRPC_ADDRESS: 'roster:50051',
  MONGO_URL: 'mongodb://db:27017',
  KAFKA_BROKERS: 'kafka:9092',
  GRPC_IDENTITY_DIR: '/etc/isams-sync/identity',
};

describe('bookings configuration: the processed-event records’ retention', () => {
  it('keeps them 100 days unless told otherwise', () => {
    expect(loadBookingsConfig(base).PROCESSED_EVENTS_RETENTION_DAYS).toBe(100);
    expect(
      loadBookingsConfig({ ...base, PROCESSED_EVENTS_RETENTION_DAYS: '120' }).PROCESSED_EVENTS_RETENTION_DAYS,
    ).toBe(120);
  });

  it('refuses a period Kafka could still deliver an event past (30 days or less), a silly one and a non-number, naming the variable', () => {
    for (const value of ['30', '0', '-5', '3651', 'a month'])
      expect(() => loadBookingsConfig({ ...base, PROCESSED_EVENTS_RETENTION_DAYS: value }), value).toThrow(
        /PROCESSED_EVENTS_RETENTION_DAYS/,
      );
  });
});
