import { createLogger } from '@isams-sync/logger';
import type { Logger } from '@isams-sync/logger';
import { getTestInfra, uniqueName } from '@isams-sync/testing';
import { MongoClient } from 'mongodb';
import type { Collection, Db, Document } from 'mongodb';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';

/** The MongoDB-wire endpoint chosen by the test infrastructure (throws, never skips, when absent). */
export function testMongoUrl(): string {
  return getTestInfra().mongoUrl;
}

/** A random database name, unique per test ('-' is not allowed in FerretDB database names). */
export function uniqueDbName(prefix = 'mongo_lib'): string {
  return uniqueName(prefix).replace(/[^A-Za-z0-9_]/g, '_');
}

/** A silent logger for code under test. */
export function silentLogger(): Logger {
  return createLogger({ service: 'mongo-test', level: 'silent' });
}

/**
 * Registers hooks that give every test its own freshly named database (dropped afterwards) on one
 * shared client. Returns accessors for the current test's database and the client.
 */
export function useFreshDatabase(): { db: () => Db; client: () => MongoClient; dbName: () => string } {
  let client: MongoClient | undefined;
  let current: Db | undefined;
  beforeAll(async () => {
    client = new MongoClient(testMongoUrl(), { serverSelectionTimeoutMS: 15_000 });
    await client.connect();
  });
  afterAll(async () => {
    await client?.close();
  });
  beforeEach(() => {
    current = client!.db(uniqueDbName());
  });
  afterEach(async () => {
    await current?.dropDatabase();
    current = undefined;
  });
  return {
    db: () => current!,
    client: () => client!,
    dbName: () => current!.databaseName,
  };
}

/**
 * Runs `race` with collection `name` of the current test's database seen over `count` connections:
 * the shared client's and `count - 1` clients of their own (closed afterwards) — claimants racing as
 * separate replicas do.
 */
export async function onSeparateConnections<T extends Document, R>(
  ctx: ReturnType<typeof useFreshDatabase>,
  name: string,
  count: number,
  race: (colls: Array<Collection<T>>) => Promise<R>,
): Promise<R> {
  const clients = await Promise.all(
    Array.from({ length: count - 1 }, async () => new MongoClient(testMongoUrl()).connect()),
  );
  try {
    return await race(
      [ctx.db(), ...clients.map((c) => c.db(ctx.dbName()))].map((db) => db.collection<T>(name)),
    );
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}
