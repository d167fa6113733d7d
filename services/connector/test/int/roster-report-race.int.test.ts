import { isAppError, isTransientKind } from '@isams-sync/errors';
import { createLogger } from '@isams-sync/logger';
import { getTestInfra, uniqueName } from '@isams-sync/testing';
import { MongoClient } from 'mongodb';
import type { Db } from 'mongodb';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunsRepository } from '../../src/adapters/mongo/runs-repository';
import type { RunRecord } from '../../src/domain/run-record';
import { SyncEngine } from '../../src/use-cases/sync-engine';
import { ConnectorWorld, inMemoryPorts, testEngineOptions } from '../support/in-memory/in-memory-ports';
import { ProcessLife } from '../support/in-memory/process-life';
import { runAtMarker, runRecord } from '../support/run-records';

// The connector records `published` (the marker-attempted step's outcome) once the marker's send
// is acknowledged; the roster may report the run (applying, applied, held, failed) as soon as it
// has the marker. Both land on the same run document, on the real repository and database:
// - the report can arrive before the step is claimed (the run still says `fetched`);
// - on FerretDB a findAndModify reads the document and then writes the whole of it back, so the
//   step's write, read before the report was recorded and written after, can put the run back
//   without the report.
// Either way the run must end with the report: `applied`, never left `published`.

const ROUNDS = 120;
const logger = createLogger({ service: 'roster-report-race', level: 'silent' });

let mongo: MongoClient;
let db: Db;

beforeAll(async () => {
  mongo = await new MongoClient(getTestInfra().mongoUrl).connect();
  db = mongo.db(uniqueName('connector-reports'));
});
afterAll(async () => {
  await db?.dropDatabase().catch(() => undefined);
  await mongo?.close();
});

describe('connector: the roster’s report and the `published` step, side by side on the database', () => {
  it(
    `the run ends with the report in every one of ${ROUNDS} rounds, whichever lands first`,
    { timeout: 120_000 },
    async () => {
      const runs = new RunsRepository(db);
      const world = new ConnectorWorld({ chunkSize: 2, records: {} }, 30_000);
      const engine = new SyncEngine(
        { ...inMemoryPorts(world, new ProcessLife()), runs, logger },
        testEngineOptions(30_000),
      );
      /** The report's event handled as the consumer does: a transient failure is handled again. */
      const handleReport = async (run: RunRecord) => {
        for (let attempt = 1; ; attempt++) {
          try {
            return await engine.applyRosterReport({
              tenantId: run.tenantId,
              syncRunId: run._id,
              status: 'applied',
              sequence: 1,
            });
          } catch (err) {
            if (!isAppError(err) || !isTransientKind(err.kind) || attempt === 20) throw err;
            await sleep(5);
          }
        }
      };
      const left: string[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const run = runAtMarker('race-school', `race-${i}`);
        await runs.recordRequested(run);
        // One of the two sets off up to 4 ms after the other: the report before the step's claim,
        // between its claim and its write, or after it.
        const lag = (i % 9) - 4;
        await Promise.all([
          sleep(Math.max(0, -lag)).then(() =>
            runs.recordStep(run, { status: 'published', publishedAt: new Date() }, { sequence: 1 }, null),
          ),
          sleep(Math.max(0, lag)).then(() => handleReport(run)),
        ]);
        const stored = await db.collection<RunRecord>('sync_runs').findOne({ _id: run._id });
        if (stored?.status !== 'applied' || stored.rosterSequence !== 1)
          left.push(`${run._id}: ${stored?.status} (roster sequence ${stored?.rosterSequence})`);
      }
      expect(left).toEqual([]);
    },
  );

  it('a report kept twice is kept once; an older report after a newer one changes nothing', async () => {
    const runs = new RunsRepository(db);
    const run = runRecord('race-school', 'kept-twice', new Date());
    await runs.recordRequested(run);
    const applied = { status: 'applied' as const, rosterStatus: 'applied' as const, rosterSequence: 2 };
    expect(await runs.recordRosterReport(run.tenantId, run._id, 2, applied)).toMatchObject(applied);
    // The same report again (a redelivery): the duplicate insert is no error.
    expect(await runs.recordRosterReport(run.tenantId, run._id, 2, applied)).toMatchObject(applied);
    const applying = { status: 'applying' as const, rosterStatus: 'applying' as const, rosterSequence: 1 };
    expect(await runs.recordRosterReport(run.tenantId, run._id, 1, applying)).toMatchObject(applied);
    expect(await db.collection('run_reports').countDocuments({ syncRunId: run._id })).toBe(2);
    // A report under another school's id never reaches the run, nor stands in the way of the
    // school's own report of that sequence.
    const failed = { status: 'failed' as const, rosterStatus: 'failed' as const, rosterSequence: 3 };
    expect(await runs.recordRosterReport('other-school', run._id, 3, failed)).toBeNull();
    expect(await db.collection<RunRecord>('sync_runs').findOne({ _id: run._id })).toMatchObject(applied);
    const later = { ...applied, rosterSequence: 3 };
    expect(await runs.recordRosterReport(run.tenantId, run._id, 3, later)).toMatchObject(later);
  });
});
