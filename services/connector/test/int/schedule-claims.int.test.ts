import { createTestDatabase, type TestDatabase } from '@isams-sync/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScheduleClaimsRepository } from '../../src/adapters/mongo/snapshots-repository';
import { COLLECTIONS } from '../../src/adapters/mongo/collections';

// The MongoDB claims behind the scheduler's race for a due time (domain/schedule): one winner per
// claim window, decided by the unique `_id` insert. The crash matrix
// (test/use-cases/sync-engine-crash-matrix.test.ts) runs the engine over the in-memory twin.
describe('schedule claims in MongoDB', () => {
  let database: TestDatabase;
  let claims: ScheduleClaimsRepository;
  const due = new Date('2026-12-03T09:00:00.000Z');

  beforeAll(async () => {
    database = await createTestDatabase('connector-schedule-claims');
    claims = new ScheduleClaimsRepository(database.db);
  });
  afterAll(() => database?.drop());

  it('one replica wins each window of a due time; a later window can be won again; schools never share a claim', async () => {
    expect(await claims.claim('school-a', due, 0)).toBe(true);
    expect(await claims.claim('school-a', due, 0)).toBe(false);
    expect(await claims.claim('school-b', due, 0)).toBe(true);
    expect(await claims.claim('school-a', due, 1)).toBe(true);
    expect(await claims.claim('school-a', due, 1)).toBe(false);
    const ids = await database.db
      .collection(COLLECTIONS.scheduleClaims)
      .find({}, { projection: { _id: 1 } })
      .map((d) => String(d._id))
      .toArray();
    expect(ids.sort()).toEqual(
      [`school-a#${due.getTime()}`, `school-a#${due.getTime()}#1`, `school-b#${due.getTime()}`].sort(),
    );
  });

  it('prunes the claims taken before the given time', async () => {
    await claims.prune(new Date(Date.now() + 1_000));
    expect(await claims.claim('school-a', due, 0)).toBe(true);
  });
});
