import type { Collection, Db } from 'mongodb';
import { isDuplicateKeyError, toMongoError } from '@isams-sync/mongo';
import type { FreshnessMove } from '../../domain/data-freshness';
import type { RunRecord } from '../../domain/run-record';
import type { SchoolSettings } from '../../domain/school-settings';
import type { FreshnessReader, FreshnessStore } from '../../use-cases/ports';
import { COLLECTIONS } from './collections';
import { fetchedNoLaterThan } from './fetch-order';

interface DataFreshnessDocument {
  _id: string;
  tenantId: string;
  dataAsOf: Date;
  syncRunId: string;
  /** That run's place in the school's fetch order (absent: a run started before it was kept). */
  fetchSequence?: number;
  updatedAt: Date;
}

export interface DataFreshness {
  dataAsOf: Date;
  syncRunId: string;
}

/**
 * When the data now in SchoolCloud was fetched, per school: moved on by every run that brought it up
 * to date (domain/data-freshness) and was fetched after the one recorded (domain/sync-run
 * `fetchedAfter`: by fetch sequence, else by time), never back to an earlier run, and never derived
 * from a window of recent runs. Ordered by sequence, the time can step back by as much as two
 * replicas' clocks disagree: it is the time the newer run's replica read.
 */
export class DataFreshnessRepository implements FreshnessStore, FreshnessReader {
  private readonly coll: Collection<DataFreshnessDocument>;
  constructor(
    db: Db,
    private readonly runs: Collection<RunRecord>,
  ) {
    this.coll = db.collection<DataFreshnessDocument>(COLLECTIONS.dataFreshness);
  }

  /**
   * Records the move unless a run fetched as late or later is stored. The conditional upsert is
   * atomic on MongoDB; on FerretDB two racing writers can leave the older of two runs until the next
   * good run moves it on.
   */
  async advance(tenantId: string, { dataAsOf, syncRunId, fetchSequence }: FreshnessMove): Promise<void> {
    try {
      await this.coll.updateOne(
        {
          _id: tenantId,
          tenantId,
          ...fetchedNoLaterThan<DataFreshnessDocument>(
            { fetchedAt: dataAsOf, fetchSequence },
            'dataAsOf',
            false,
          ),
        },
        {
          $set: {
            dataAsOf,
            syncRunId,
            updatedAt: new Date(),
            ...(fetchSequence === undefined ? {} : { fetchSequence }),
          },
          ...(fetchSequence === undefined ? { $unset: { fetchSequence: '' as const } } : {}),
        },
        { upsert: true },
      );
    } catch (err) {
      // The document exists with a time at least as new: nothing to do.
      if (isDuplicateKeyError(err)) return;
      throw toMongoError(err, { operation: 'advance', collection: COLLECTIONS.dataFreshness });
    }
  }

  /**
   * The data-as-of time of every school whose syncing is enabled (`null`: none recorded yet), in no
   * particular order and without the school ids — for the metrics (two projected reads, no sort).
   */
  async enabledSchoolsDataAsOf(settings: Collection<SchoolSettings>): Promise<Array<Date | null>> {
    try {
      const enabled = await settings.find({ enabled: true }, { projection: { _id: 1 } }).toArray();
      const known = new Map(
        (await this.coll.find({}, { projection: { _id: 1, dataAsOf: 1 } }).toArray()).map((d) => [
          d._id,
          d.dataAsOf,
        ]),
      );
      return enabled.map((s) => known.get(s._id) ?? null);
    } catch (err) {
      throw toMongoError(err, { operation: 'enabledSchoolsDataAsOf', collection: COLLECTIONS.dataFreshness });
    }
  }

  /**
   * The school's data-as-of time. A school whose runs predate this record gets it once from its
   * newest applied or unchanged run (a one-off read of its runs, then stored).
   */
  async get(tenantId: string): Promise<DataFreshness | null> {
    try {
      const doc = await this.coll.findOne({ _id: tenantId, tenantId });
      if (doc) return { dataAsOf: doc.dataAsOf, syncRunId: doc.syncRunId };
      const [run] = await this.runs
        .find({
          tenantId,
          dryRun: false,
          status: { $in: ['applied', 'unchanged'] },
          fetchedAt: { $exists: true },
        })
        .sort({ fetchedAt: -1 })
        .limit(1)
        .toArray();
      if (run?.fetchedAt === undefined) return null;
      await this.advance(tenantId, {
        dataAsOf: run.fetchedAt,
        syncRunId: run._id,
        ...(run.fetchSequence === undefined ? {} : { fetchSequence: run.fetchSequence }),
      });
      return { dataAsOf: run.fetchedAt, syncRunId: run._id };
    } catch (err) {
      throw toMongoError(err, { operation: 'get', collection: COLLECTIONS.dataFreshness });
    }
  }
}
