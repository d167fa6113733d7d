import { afterAll, describe, expect, it } from 'vitest';
import { createKafkaClient, describeTopic, ensureTopics } from '@isams-sync/kafka';
import { createLogger } from '@isams-sync/logger';
import {
  createTestDatabase,
  createTestTopics,
  deleteRunTopics,
  deleteTestTopics,
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

  it('names carry the run’s token, and a run’s topics (DLQs included) are deleted — only that run’s', async () => {
    const token = process.env.TEST_RUN_TOKEN!;
    expect(token).toMatch(/^[0-9a-f]{8}$/);
    expect(uniqueName('x')).toMatch(new RegExp(`^x-${token}[0-9a-f]{12}$`));
    // Topics of another run (its token), and one of this run with its DLQ.
    const brokers = getTestInfra().kafkaBrokers;
    const client = createKafkaClient({
      clientId: uniqueName('c'),
      brokers,
      logger: createLogger({ service: 'infra-test', level: 'silent' }),
    });
    const other = 'f0f0f0f0';
    const spec = (name: string) => ({
      name,
      partitions: 1,
      replicationFactor: 1,
      configEntries: {},
      keying: 'tenant' as const,
      description: 'test',
    });
    const theirs = `infra-${other}000000000001`;
    const [mine] = await createTestTopics([{ prefix: 'infra' }]);
    await ensureTopics(client, [spec(theirs), spec(`${mine}.dlq`)]);
    try {
      const deleted = await deleteRunTopics(other, brokers);
      expect(deleted).toEqual([theirs]);
      expect(await deleteTestTopics([mine!], brokers)).toEqual(expect.arrayContaining([mine, `${mine}.dlq`]));
      expect(await deleteTestTopics([mine!], brokers)).toEqual([]);
    } finally {
      await deleteTestTopics([theirs, mine!], brokers).catch(() => undefined);
    }
    await expect(deleteRunTopics('not-a-token', brokers)).rejects.toThrow(/not a test run token/);
  });
});
