import { TOPICS } from '@isams-sync/events';
import type { TopicSpec } from '@isams-sync/events';
import { createKafkaClient, deleteTopics, describeTopic } from '@isams-sync/kafka';
import { createLogger } from '@isams-sync/logger';
import { getTestInfra, uniqueName } from '@isams-sync/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { createTopics, loadCreateTopicsConfig } from './create-topics';

const logger = createLogger({ service: 'create-topics-test', level: 'silent' });
// The declared specs under unique names, so the shared test broker's real topics are untouched.
const prefix = uniqueName('hook');
const specs: TopicSpec[] = TOPICS.map((t) => ({ ...t, name: `${prefix}.${t.name}` }));

describe('createTopics (real broker)', () => {
  const { kafkaBrokers } = getTestInfra();
  const config = loadCreateTopicsConfig({
    KAFKA_BROKERS: kafkaBrokers.join(','),
    KAFKA_TOPIC_REPLICATION_FACTOR: '1',
  });
  const client = createKafkaClient({ brokers: kafkaBrokers, clientId: 'create-topics-test', logger });

  afterAll(async () => {
    await deleteTopics(
      client,
      specs.map((s) => s.name),
    ).catch(() => undefined);
  });

  it('creates every declared topic with its partitions and configs, then is idempotent', async () => {
    const first = await createTopics(config, logger, specs);
    expect(first.created).toEqual(specs.map((s) => s.name));
    expect(first.mismatches).toEqual([]);

    for (const spec of [specs[0]!, specs.find((s) => s.name.endsWith('roster.state.v1'))!, specs.at(-1)!]) {
      const described = await describeTopic(client, spec.name);
      expect(described.partitions).toBe(spec.partitions);
      for (const [key, value] of Object.entries(spec.configEntries))
        expect(described.configs[key]).toBe(value);
    }

    const second = await createTopics(config, logger, specs);
    expect(second.created).toEqual([]);
    expect(second.existing).toEqual(specs.map((s) => s.name));
  });

  it('reads the chart-provided environment', () => {
    expect(
      loadCreateTopicsConfig({
        KAFKA_BROKERS: 'a:9093,b:9093',
        KAFKA_SSL: 'true',
        KAFKA_SSL_CA_FILE: '/etc/isams-sync/kafka-ca/ca.crt',
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: 'u',
        KAFKA_SASL_PASSWORD: 'p',
      }),
    ).toMatchObject({
      KAFKA_BROKERS: ['a:9093', 'b:9093'],
      KAFKA_SSL: true,
      KAFKA_TOPIC_REPLICATION_FACTOR: 3,
      KAFKA_CLIENT_ID: 'isams-sync-create-topics',
    });
  });
});
