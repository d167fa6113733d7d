import { getTestInfra, uniqueName } from '@isams-sync/testing';
import { MongoClient } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { AppliedSnapshotsRepository } from '../../src/adapters/mongo/snapshots-repository';
import type { AppliedSnapshot } from '../../src/domain/sync-run';

describe('connector: the applied snapshots on the database', () => {
  it('keeps the datasets whose container came twice with the fingerprints, and drops them with the next snapshot', async () => {
    const client = new MongoClient(getTestInfra().mongoUrl);
    await client.connect();
    const db = client.db(uniqueName('snapshots'));
    try {
      const repo = new AppliedSnapshotsRepository(db);
      const repeated: AppliedSnapshot = {
        syncRunId: 'run-1',
        fingerprints: { currentStaff: 'a', yearGroups: 'b' },
        absent: ['contacts'],
        repeatedContainers: ['currentStaff'],
      };
      await repo.put('school-1', repeated, new Date());
      expect(await repo.get('school-1')).toEqual(repeated);
      const plain: AppliedSnapshot = { syncRunId: 'run-2', fingerprints: { currentStaff: 'c' }, absent: [] };
      await repo.put('school-1', plain, new Date());
      expect(await repo.get('school-1')).toEqual(plain);
      expect(await repo.get('school-2')).toBeNull();
    } finally {
      await db.dropDatabase();
      await client.close();
    }
  });
});
