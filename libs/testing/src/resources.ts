import { dlqTopicName } from '@isams-sync/events';
import { createKafkaClient, deleteTopics, ensureTopics } from '@isams-sync/kafka';
import { createLogger } from '@isams-sync/logger';
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

/** `mongoUrl` defaults to the shared test database server (a `PrivateInfra`'s URL for a private one). */
export async function createTestDatabase(
  prefix = 'test',
  mongoUrl: string = getTestInfra().mongoUrl,
): Promise<TestDatabase> {
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
  const client = topicsClient(kafkaBrokers);
  const names = specs.map((s) => uniqueName(s.prefix));
  // ensureTopics waits until every partition has a leader (a fresh KRaft broker briefly answers
  // "This server does not host this topic-partition").
  await ensureTopics(
    client,
    specs.map((s, i) => ({
      name: names[i]!,
      partitions: s.partitions ?? 1,
      replicationFactor: 1,
      configEntries: Object.fromEntries((s.configEntries ?? []).map((e) => [e.name, e.value])),
      keying: 'tenant' as const,
      description: 'test topic',
    })),
  );
  return names;
}

/**
 * Deletes the topics a test run created: those whose names carry its token (`uniqueName`), DLQs
 * included. Another run's topics, and any topic not named by `uniqueName`, are left alone.
 */
export async function deleteRunTopics(token: string, kafkaBrokers: string[]): Promise<string[]> {
  if (!/^[0-9a-f]{8}$/.test(token)) throw new Error(`not a test run token: ${token}`);
  return deleteTopics(topicsClient(kafkaBrokers), (name) => name.includes(`-${token}`));
}

/** Deletes these topics and their DLQs, those that exist (a system's own, as it stops). */
export async function deleteTestTopics(topics: readonly string[], kafkaBrokers: string[]): Promise<string[]> {
  return deleteTopics(topicsClient(kafkaBrokers), [...topics, ...topics.map(dlqTopicName)]);
}

const topicsClient = (kafkaBrokers: string[]) =>
  createKafkaClient({
    clientId: 'test-topics',
    brokers: kafkaBrokers,
    logger: createLogger({ service: 'test-topics', level: 'silent' }),
  });
