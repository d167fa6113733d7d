import type { Collection, Db } from 'mongodb';
import { insertIfAbsent, isDuplicateKeyError, withMongoErrors } from '@isams-sync/mongo';
import type { SchoolSchedule } from '../../domain/schedule';
import type { ScheduleStore } from '../../use-cases/ports';
import { COLLECTIONS } from './collections';

/** The schedule fields as settings stored them before `sync_schedules` existed. */
interface LegacyScheduleFields {
  _id: string;
  tenantId: string;
  nextRunAt?: Date | null;
  consecutiveFailures?: number;
}

/** Each school's schedule (`sync_schedules`, `_id` = tenant id): domain/schedule `SchoolSchedule`. */
export class ScheduleRepository implements ScheduleStore {
  readonly coll: Collection<SchoolSchedule>;
  private readonly settings: Collection<LegacyScheduleFields>;

  constructor(db: Db) {
    this.coll = db.collection<SchoolSchedule>(COLLECTIONS.schedules);
    this.settings = db.collection<LegacyScheduleFields>(COLLECTIONS.settings);
  }

  private wrap<R>(operation: string, fn: () => Promise<R>): Promise<R> {
    return withMongoErrors({ operation, collection: COLLECTIONS.schedules }, fn);
  }

  get(tenantId: string): Promise<SchoolSchedule | null> {
    return this.wrap('get', () => this.coll.findOne({ _id: tenantId, tenantId }));
  }

  due(now: Date, limit: number): Promise<SchoolSchedule[]> {
    return this.wrap('due', () =>
      this.coll
        .find({ nextRunAt: { $lte: now } })
        .sort({ nextRunAt: 1 })
        .limit(limit)
        .toArray(),
    );
  }

  setNext(tenantId: string, nextRunAt: Date | null, consecutiveFailures?: number): Promise<void> {
    const write = () =>
      this.coll.updateOne(
        { _id: tenantId, tenantId },
        consecutiveFailures === undefined
          ? { $set: { nextRunAt }, $setOnInsert: { consecutiveFailures: 0 } }
          : { $set: { nextRunAt, consecutiveFailures } },
        { upsert: true },
      );
    return this.wrap('setNext', async () => {
      // Two upserts of a schedule not there yet both try to insert it; the one refused updates it.
      await write().catch((err: unknown) => {
        if (!isDuplicateKeyError(err)) throw err;
        return write();
      });
    });
  }

  clearFailures(tenantId: string): Promise<void> {
    return this.wrap('clearFailures', async () => {
      await this.coll.updateOne({ _id: tenantId, tenantId }, { $set: { consecutiveFailures: 0 } });
    });
  }

  /**
   * Gives every school whose settings still hold their schedule (stored before `sync_schedules`) a
   * schedule of its own with the same next run and streak; run at start-up, before the scheduler.
   * Inserts only (a schedule already there wins), so it is idempotent and safe beside other replicas.
   * The old fields stay in the settings, unread, until the admin's next save replaces them. Returns
   * how many schedules it created.
   */
  adoptLegacySchedules(): Promise<number> {
    return this.wrap('adoptLegacySchedules', async () => {
      const have = new Set(
        (await this.coll.find({}, { projection: { _id: 1 } }).toArray()).map((d) => d._id),
      );
      let adopted = 0;
      const legacy = this.settings.find(
        { nextRunAt: { $exists: true } },
        { projection: { _id: 1, tenantId: 1, nextRunAt: 1, consecutiveFailures: 1 } },
      );
      for await (const s of legacy) {
        if (have.has(s._id)) continue;
        const created = await insertIfAbsent(this.coll, {
          _id: s._id,
          tenantId: s.tenantId,
          nextRunAt: s.nextRunAt ?? null,
          consecutiveFailures: s.consecutiveFailures ?? 0,
        });
        if (created) adopted += 1;
      }
      return adopted;
    });
  }
}
