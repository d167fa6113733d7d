import type { Collection, Db } from 'mongodb';
import { isDuplicateKeyError, toMongoError } from '@isams-sync/mongo';
import type { RunRecord } from '../../domain/run-record';
import type { SchoolSettings } from '../../domain/school-settings';
import type { FreshnessReader, FreshnessStore } from '../../use-cases/ports';
import { COLLECTIONS } from './collections';

interface DataFreshnessDocument {
  _id: string;
  tenantId: string;
  dataAsOf: Date;
  syncRunId: string;
  updatedAt: Date;
}

export interface DataFreshness {
  dataAsOf: Date;
  syncRunId: string;
}

/**
 * When the data now in SchoolCloud was fetched, per school: moved forward by every run that brought
 * it up to date (domain/data-freshness), never back, and never derived from a window of recent runs.
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
   * Records `dataAsOf` unless a newer one is stored. The conditional upsert is atomic on MongoDB; on
   * FerretDB two racing writers can leave the older of two times until the next good run moves it on.
   */
  async advance(tenantId: string, dataAsOf: Date, syncRunId: string): Promise<void> {
    try {
      await this.coll.updateOne(
        { _id: tenantId, tenantId, dataAsOf: { $lt: dataAsOf } },
        { $set: { dataAsOf, syncRunId, updatedAt: new Date() } },
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
      await this.advance(tenantId, run.fetchedAt, run._id);
      return { dataAsOf: run.fetchedAt, syncRunId: run._id };
    } catch (err) {
      throw toMongoError(err, { operation: 'get', collection: COLLECTIONS.dataFreshness });
    }
  }
}
