import { getTestInfra, uniqueName } from '@isams-sync/testing';
import { MongoClient } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { AppliedSnapshotsRepository } from '../../src/adapters/mongo/snapshots-repository';
import type { AppliedSnapshot } from '../../src/domain/sync-run';

/** A repository on a database of its own, dropped afterwards. */
async function withRepository(test: (repo: AppliedSnapshotsRepository) => Promise<void>): Promise<void> {
  const client = new MongoClient(getTestInfra().mongoUrl);
  await client.connect();
  const db = client.db(uniqueName('snapshots'));
  try {
    await test(new AppliedSnapshotsRepository(db));
  } finally {
    await db.dropDatabase();
    await client.close();
  }
}

describe('connector: the applied snapshots on the database', () => {
  it('keeps the datasets whose container came twice with the fingerprints, and drops them with the next snapshot', async () => {
    await withRepository(async (repo) => {
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
    });
  });

  it('is never replaced by the snapshot of a run fetched before the stored one’s; a snapshot stored without a time is', async () => {
    await withRepository(async (repo) => {
      const at = (minute: number) => new Date(Date.UTC(2026, 11, 6, 9, minute));
      const snapshot = (syncRunId: string, fetchedAt?: Date): AppliedSnapshot => ({
        syncRunId,
        ...(fetchedAt ? { fetchedAt } : {}),
        fingerprints: { currentStaff: syncRunId },
        absent: [],
      });
      // Stored by a version that kept no time: any snapshot replaces it.
      await repo.put('school-1', snapshot('legacy'), new Date());
      await repo.put('school-1', snapshot('run-1', at(0)), new Date());
      expect(await repo.get('school-1')).toEqual(snapshot('run-1', at(0)));
      await repo.put('school-1', snapshot('run-2', at(59)), new Date());
      // The first run's report again, late: it changes nothing, and says nothing.
      await repo.put('school-1', snapshot('run-1', at(0)), new Date());
      expect(await repo.get('school-1')).toEqual(snapshot('run-2', at(59)));
      // The same run again (a repeated report) writes the same snapshot.
      await repo.put('school-1', snapshot('run-2', at(59)), new Date());
      expect(await repo.get('school-1')).toEqual(snapshot('run-2', at(59)));
      // Another school's snapshot is its own.
      await repo.put('school-2', snapshot('run-9', at(1)), new Date());
      expect((await repo.get('school-2'))?.syncRunId).toBe('run-9');
      expect((await repo.get('school-1'))?.syncRunId).toBe('run-2');
      // Stored by this version, a snapshot without a time (none is made by an applied run) still
      // replaces what is there.
      await repo.put('school-1', snapshot('run-3'), new Date());
      expect((await repo.get('school-1'))?.syncRunId).toBe('run-3');
    });
  });
});
