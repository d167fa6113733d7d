import { Kafka, logLevel } from 'kafkajs';
import { MongoClient, type Db } from 'mongodb';
import { getTestInfra, uniqueName } from './infra';

/** A fresh database for one test file; `drop()` removes it and closes the client. */
export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  readonly client: MongoClient;
  readonly db: Db;
  drop(): Promise<void>;
}

export async function createTestDatabase(prefix = 'test'): Promise<TestDatabase> {
  const { mongoUrl } = getTestInfra();
  // Database names are limited to 63 bytes and may not contain '.' or '-' on FerretDB's SQLite backend.
  const name = uniqueName(prefix)
    .replace(/[^A-Za-z0-9_]/g, '_')
    .slice(0, 60);
  const client = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 10_000 });
  await client.connect();
  const db = client.db(name);
  return {
    name,
    url: mongoUrl,
    client,
    db,
    drop: async () => {
      try {
        await db.dropDatabase();
      } finally {
        await client.close();
      }
    },
  };
}

/** Creates fresh topics (explicitly: the broker never auto-creates) and returns their names. */
export async function createTestTopics(
  specs: ReadonlyArray<{
    prefix: string;
    partitions?: number;
    configEntries?: Array<{ name: string; value: string }>;
  }>,
  kafkaBrokers: string[] = getTestInfra().kafkaBrokers,
): Promise<string[]> {
  const kafka = new Kafka({ clientId: 'test-topics', brokers: kafkaBrokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = specs.map((s) => ({
      topic: uniqueName(s.prefix),
      numPartitions: s.partitions ?? 1,
      replicationFactor: 1,
      configEntries: s.configEntries,
    }));
    // kafkajs' waitForLeaders sometimes fails on a fresh KRaft broker ("This server does not host
    // this topic-partition"); poll the metadata until every partition has a leader instead.
    await admin.createTopics({ topics, waitForLeaders: false });
    const names = topics.map((t) => t.topic);
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const meta = await admin.fetchTopicMetadata({ topics: names });
        if (meta.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)))
          return names;
      } catch (err) {
        if (Date.now() > deadline) throw err;
      }
      if (Date.now() > deadline) throw new Error(`topics ${names.join(', ')} have no leaders after 30 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await admin.disconnect();
  }
}
