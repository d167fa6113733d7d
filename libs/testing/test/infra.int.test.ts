import { afterAll, describe, expect, it } from 'vitest';
import { createKafkaClient, describeTopic } from '@isams-sync/kafka';
import { createLogger } from '@isams-sync/logger';
import {
  createTestDatabase,
  createTestTopics,
  getTestInfra,
  uniqueName,
  type TestDatabase,
} from '@isams-sync/testing';

describe('test infrastructure', () => {
  const dbs: TestDatabase[] = [];
  afterAll(async () => {
    await Promise.all(dbs.map((d) => d.drop()));
  });

  it('provides real endpoints', () => {
    const infra = getTestInfra();
    expect(infra.kafkaBrokers.length).toBeGreaterThan(0);
    expect(infra.mongoUrl).toMatch(/^mongodb:\/\//);
  });

  it('gives each caller a fresh database that really stores data', async () => {
    const a = await createTestDatabase('infra');
    const b = await createTestDatabase('infra');
    dbs.push(a, b);
    expect(a.name).not.toEqual(b.name);
    await a.db.collection('things').insertOne({ n: 1 });
    expect(await a.db.collection('things').countDocuments()).toBe(1);
    expect(await b.db.collection('things').countDocuments()).toBe(0);
  });

  it('creates fresh topics on the real broker', async () => {
    const [topic] = await createTestTopics([{ prefix: 'infra', partitions: 3 }]);
    const client = createKafkaClient({
      clientId: uniqueName('c'),
      brokers: getTestInfra().kafkaBrokers,
      logger: createLogger({ service: 'infra-test', level: 'silent' }),
    });
    expect((await describeTopic(client, topic!)).partitions).toBe(3);
  });
});
