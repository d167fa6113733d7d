import { randomBytes } from 'node:crypto';
import { createLogger } from '@isams-sync/logger';
import type { Logger } from '@isams-sync/logger';
import { MongoClient } from 'mongodb';
import type { Db } from 'mongodb';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';

/**
 * The MongoDB-wire endpoint for integration tests. Until `@isams-sync/testing` exposes
 * `getTestInfra()`, it comes from `MONGO_URL` (fail loudly, never skip).
 */
export function testMongoUrl(): string {
  const url = process.env.MONGO_URL;
  if (!url) {
    throw new Error(
      "MONGO_URL is not set. Start FerretDB (npm run infra:up) and run e.g. MONGO_URL='mongodb://127.0.0.1:27117/?directConnection=true&retryWrites=false' npx vitest run --project mongo",
    );
  }
  return url;
}

/** A random database name, unique per test. */
export function uniqueDbName(prefix = 'mongo_lib'): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
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
