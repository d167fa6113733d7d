import { getTestInfra, uniqueName } from '@isams-sync/testing';
import { MongoClient } from 'mongodb';
import type { Db } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { DataFreshnessRepository } from '../../src/adapters/mongo/data-freshness-repository';
import { AppliedSnapshotsRepository } from '../../src/adapters/mongo/snapshots-repository';
import type { RunRecord } from '../../src/domain/run-record';
import type { AppliedSnapshot } from '../../src/domain/sync-run';

// What a taken roster report moves on, on the database: the applied snapshot and "data as of".

/** A database of its own, dropped afterwards. */
async function withDatabase(test: (db: Db) => Promise<void>): Promise<void> {
  const client = new MongoClient(getTestInfra().mongoUrl);
  await client.connect();
  const db = client.db(uniqueName('snapshots'));
  try {
    await test(db);
  } finally {
    await db.dropDatabase();
    await client.close();
  }
}

const withRepository = (test: (repo: AppliedSnapshotsRepository) => Promise<void>) =>
  withDatabase((db) => test(new AppliedSnapshotsRepository(db)));

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

  it('is ordered by the runs’ fetch sequences, not by their replicas’ clocks; by time when either has none', async () => {
    await withRepository(async (repo) => {
      const at = (second: number) => new Date(Date.UTC(2026, 11, 6, 9, 0, second));
      const snapshot = (syncRunId: string, fetchedAt: Date, fetchSequence?: number): AppliedSnapshot => ({
        syncRunId,
        fetchedAt,
        ...(fetchSequence === undefined ? {} : { fetchSequence }),
        fingerprints: { currentStaff: syncRunId },
        absent: [],
      });
      // Stored before sequences: a numbered run fetched before it by the clocks does not replace it.
      await repo.put('school-1', snapshot('legacy', at(40)), new Date());
      await repo.put('school-1', snapshot('run-1', at(35), 1), new Date());
      expect((await repo.get('school-1'))?.syncRunId).toBe('legacy');
      // Fetched later by the clocks, it does.
      await repo.put('school-1', snapshot('run-1', at(45), 1), new Date());
      // The next run, fetched by a replica whose clock is 30 s behind: its snapshot replaces run-1's.
      await repo.put('school-1', snapshot('run-2', at(15), 2), new Date());
      expect(await repo.get('school-1')).toEqual(snapshot('run-2', at(15), 2));
      // run-1's report again, late, with its later clock time: it changes nothing.
      await repo.put('school-1', snapshot('run-1', at(45), 1), new Date());
      expect((await repo.get('school-1'))?.syncRunId).toBe('run-2');
      // A run fetched before sequences, reported late: ordered by time against the stored one.
      await repo.put('school-1', snapshot('legacy-late', at(10)), new Date());
      expect((await repo.get('school-1'))?.syncRunId).toBe('run-2');
    });
  });
});

describe('connector: the data-as-of time on the database', () => {
  it('moves to the run fetched last by the fetch sequences, whatever its replica’s clock said; by time when either has none', async () => {
    await withDatabase(async (db) => {
      const repo = new DataFreshnessRepository(db, db.collection<RunRecord>('sync_runs'));
      const at = (second: number) => new Date(Date.UTC(2026, 11, 6, 9, 0, second));
      // Recorded before sequences.
      await repo.advance('school-1', { dataAsOf: at(40), syncRunId: 'legacy' });
      await repo.advance('school-1', { dataAsOf: at(35), syncRunId: 'run-1', fetchSequence: 1 });
      expect(await repo.get('school-1')).toEqual({ dataAsOf: at(40), syncRunId: 'legacy' });
      await repo.advance('school-1', { dataAsOf: at(45), syncRunId: 'run-1', fetchSequence: 1 });
      // The next run, fetched by a replica whose clock is 30 s behind run-1's: SchoolCloud is as of it.
      await repo.advance('school-1', { dataAsOf: at(15), syncRunId: 'run-2', fetchSequence: 2 });
      expect(await repo.get('school-1')).toEqual({ dataAsOf: at(15), syncRunId: 'run-2' });
      // run-1 again (a repeated report), with its later clock time: nothing moves.
      await repo.advance('school-1', { dataAsOf: at(45), syncRunId: 'run-1', fetchSequence: 1 });
      expect((await repo.get('school-1'))?.syncRunId).toBe('run-2');
      // A run without a sequence (fetched before them) is ordered by time: later moves it, earlier not.
      await repo.advance('school-1', { dataAsOf: at(10), syncRunId: 'legacy-early' });
      expect((await repo.get('school-1'))?.syncRunId).toBe('run-2');
      await repo.advance('school-1', { dataAsOf: at(50), syncRunId: 'legacy-late' });
      expect(await repo.get('school-1')).toEqual({ dataAsOf: at(50), syncRunId: 'legacy-late' });
    });
  });
});
