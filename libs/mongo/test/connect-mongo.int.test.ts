import { Writable } from 'node:stream';
import { createLogger } from '@isams-sync/logger';
import { describe, expect, it } from 'vitest';
import { connectMongo } from '../src/index';
import { silentLogger, testMongoUrl, uniqueDbName } from './support/fresh-database';

describe('connectMongo (integration)', () => {
  it('connects, pings, exposes the database and closes idempotently', async () => {
    const dbName = uniqueDbName();
    const mongo = await connectMongo({
      url: testMongoUrl(),
      dbName,
      logger: silentLogger(),
      appName: 'mongo-lib-test',
    });
    try {
      expect(mongo.db.databaseName).toBe(dbName);
      expect(await mongo.ping()).toBe(true);
      await mongo.db.collection('c').insertOne({ ok: 1 });
      expect(await mongo.db.collection('c').countDocuments()).toBe(1);
      await mongo.db.dropDatabase();
    } finally {
      await mongo.close();
      await mongo.close();
    }
    expect(await mongo.ping()).toBe(false);
  });

  it('logs the endpoint without credentials', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger({ service: 'mongo-test', destination });
    // FerretDB without authentication ignores credentials in the URL.
    const url = testMongoUrl().replace('mongodb://', 'mongodb://svc-user:hunter2@');
    const mongo = await connectMongo({
      url,
      dbName: uniqueDbName(),
      logger,
      appName: 'mongo-lib-test',
    }).catch((e: unknown) => e);
    if (mongo && typeof mongo === 'object' && 'close' in mongo)
      await (mongo as { close(): Promise<void> }).close();
    const output = lines.join('');
    expect(output).toContain('127.0.0.1');
    expect(output).not.toContain('hunter2');
    expect(output).not.toContain('svc-user');
  });
});
