import { queryIndexReport, recordQueryShapes } from '@isams-sync/mongo';
import type { QueryShapeRecorder } from '@isams-sync/mongo';
import { getTestInfra, uniqueName } from '@isams-sync/testing';
import { MongoClient } from 'mongodb';
import type { Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMongoAdminTokenRepository } from '../../src/adapters/mongo/admin-token.repository';
import { createMongoAuditLog } from '../../src/adapters/mongo/audit-log.repository';
import { GATEWAY_INDEXES } from '../../src/adapters/mongo/collections';

// Every query the gateway's repositories make (its only database access) has a declared index: on
// MongoDB none scans (the roster's twin: services/roster/test/query-indexes.int.test.ts).

let recorder: QueryShapeRecorder;
let mongo: MongoClient;
let db: Db;
beforeAll(async () => {
  recorder = recordQueryShapes();
  mongo = await new MongoClient(getTestInfra().mongoUrl, { monitorCommands: true }).connect();
  recorder.attach(mongo);
  db = mongo.db(uniqueName('gw_query_indexes').replace(/-/g, '_'));
});
afterAll(async () => {
  recorder?.stop();
  await db?.dropDatabase().catch(() => undefined);
  await mongo?.close();
});

describe('every query the gateway makes has a declared index (MongoDB would not scan)', () => {
  it('calls every repository method and checks each query shape', async () => {
    const tokens = createMongoAdminTokenRepository(db, 90 * 86_400_000);
    const audit = createMongoAuditLog(db);
    const now = new Date();
    await tokens.insert({
      _id: 'tok-1',
      tenantId: 'school-a',
      hash: 'h1',
      label: 'office',
      createdAt: now,
      createdBy: 'operator',
      revokedAt: null,
      revokedBy: null,
      lastUsedAt: null,
    });
    expect(await tokens.findByHash('h1')).toMatchObject({ _id: 'tok-1' });
    expect(await tokens.list('school-a')).toHaveLength(1);
    await tokens.touch('tok-1', now);
    expect(await tokens.revoke('tok-1', 'operator', now)).toMatchObject({ tokenId: 'tok-1' });
    await audit.record({
      tenantId: 'school-a',
      action: 'sync.trigger',
      actor: 'a',
      requestId: 'r',
      outcome: 'succeeded',
    });
    expect(await audit.list('school-a', 10)).toHaveLength(1);
    await audit.dropOlderThan(new Date(now.getTime() - 86_400_000));

    const report = queryIndexReport('gateway', recorder.shapes(), GATEWAY_INDEXES);
    process.stdout.write(report.text);
    expect(report.shapes.length).toBeGreaterThanOrEqual(6);
    expect(report.hot).toEqual([]);
  });
});
