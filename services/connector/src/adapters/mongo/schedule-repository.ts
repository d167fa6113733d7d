import type { Collection, Db } from 'mongodb';
import { insertIfAbsent, isDuplicateKeyError, withMongoErrors } from '@isams-sync/mongo';
import type { SchoolSchedule } from '../../domain/schedule';
import type { ScheduleStore } from '../../use-cases/ports';
import { COLLECTIONS } from './collections';

/** What the start-up reconciliation reads of the settings (the schedule fields: stored before `sync_schedules`). */
interface SettingsScheduleFields {
  _id: string;
  tenantId: string;
  enabled: boolean;
  nextRunAt?: Date | null;
  consecutiveFailures?: number;
}

/** Each school's schedule (`sync_schedules`, `_id` = tenant id): domain/schedule `SchoolSchedule`. */
export class ScheduleRepository implements ScheduleStore {
  readonly coll: Collection<SchoolSchedule>;
  private readonly settings: Collection<SettingsScheduleFields>;

  constructor(db: Db) {
    this.coll = db.collection<SchoolSchedule>(COLLECTIONS.schedules);
    this.settings = db.collection<SettingsScheduleFields>(COLLECTIONS.settings);
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

  setNextIf(tenantId: string, expected: Date, nextRunAt: Date | null): Promise<boolean> {
    return this.wrap('setNextIf', async () => {
      const r = await this.coll.updateOne(
        { _id: tenantId, tenantId, nextRunAt: expected },
        { $set: { nextRunAt } },
      );
      return r.matchedCount === 1;
    });
  }

  clearFailures(tenantId: string): Promise<void> {
    return this.wrap('clearFailures', async () => {
      await this.coll.updateOne({ _id: tenantId, tenantId }, { $set: { consecutiveFailures: 0 } });
    });
  }

  /**
   * Run at start-up, before the scheduler: every school's settings get the schedule they need.
   * - A school whose settings still hold their schedule (stored before `sync_schedules`) gets a
   *   schedule of its own with the same next run and streak (`adopted`). The old fields stay in the
   *   settings, unread, until the admin's next save replaces them.
   * - A school whose sync is on but has no next run time — which no save leaves (domain/schedule), but
   *   a rollback to a version before `sync_schedules` and forward again can — is due now
   *   (`scheduled`).
   * Inserts, and a `$set` only where the time is still null, so it is idempotent and safe beside
   * other replicas (a schedule already there wins).
   */
  reconcile(now: Date): Promise<{ adopted: number; scheduled: number }> {
    return this.wrap('reconcile', async () => {
      const times = new Map(
        (await this.coll.find({}, { projection: { _id: 1, nextRunAt: 1 } }).toArray()).map((d) => [
          d._id,
          d.nextRunAt,
        ]),
      );
      let adopted = 0;
      let scheduled = 0;
      const settings = this.settings.find(
        {},
        { projection: { _id: 1, tenantId: 1, enabled: 1, nextRunAt: 1, consecutiveFailures: 1 } },
      );
      for await (const s of settings) {
        const time = times.get(s._id);
        if (time === undefined) {
          const legacy = s.nextRunAt !== undefined;
          const nextRunAt = s.nextRunAt ?? (s.enabled ? now : null);
          const created = await insertIfAbsent(this.coll, {
            _id: s._id,
            tenantId: s.tenantId,
            nextRunAt,
            consecutiveFailures: s.consecutiveFailures ?? 0,
          });
          if (created && legacy) adopted += 1;
          else if (created && nextRunAt) scheduled += 1;
        } else if (time === null && s.enabled) {
          const r = await this.coll.updateOne(
            { _id: s._id, tenantId: s.tenantId, nextRunAt: null },
            { $set: { nextRunAt: now } },
          );
          scheduled += r.modifiedCount;
        }
      }
      return { adopted, scheduled };
    });
  }
}
