import { createTestDatabase } from '@isams-sync/testing';
import type { TestDatabase } from '@isams-sync/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMongoAuditLog } from '../../src/adapters/mongo/audit-log.repository';
import type { AuditEntry } from '../../src/adapters/mongo/audit-log.repository';

// The audit log's retention on the real database: entries older than the cut-off go, of every
// school; newer ones stay and read as before.

const DAY = 24 * 3_600_000;
let testDb: TestDatabase;

beforeAll(async () => {
  testDb = await createTestDatabase('gw_audit_retention');
});
afterAll(() => testDb?.drop());

const entry = (tenantId: string, action: string): AuditEntry => ({
  tenantId,
  action,
  actor: `admin@${tenantId}.example`,
  requestId: `req-${action}`,
  outcome: 'succeeded',
});

describe('gateway: audit-log retention', () => {
  it('drops the entries made before the cut-off, of every school, and keeps the rest', async () => {
    const now = Date.now();
    let at = new Date(now - 800 * DAY);
    const log = createMongoAuditLog(testDb.db, () => at);
    await log.record(entry('school-a', 'settings.put'));
    await log.record(entry('school-b', 'held-batch.approve'));
    at = new Date(now - 700 * DAY);
    await log.record(entry('school-a', 'sync.trigger'));
    at = new Date(now);
    await log.record(entry('school-b', 'sync.cancel'));

    expect(await log.dropOlderThan(new Date(now - 730 * DAY))).toBe(2);
    expect((await log.list('school-a', 10)).map((e) => e.action)).toEqual(['sync.trigger']);
    expect((await log.list('school-b', 10)).map((e) => e.action)).toEqual(['sync.cancel']);
    // Again: nothing more is past it.
    expect(await log.dropOlderThan(new Date(now - 730 * DAY))).toBe(0);
  });
});
