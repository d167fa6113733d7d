import { createTestDatabase } from '@isams-sync/testing';
import type { TestDatabase } from '@isams-sync/testing';
import type { Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScheduleRepository } from '../../src/adapters/mongo/schedule-repository';
import { SettingsRepository } from '../../src/adapters/mongo/settings-repository';
import type { VersionedSettings } from '../../src/domain/school-settings';

// An admin's save and the scheduler's writes of the same school, sent together, on the real
// database. FerretDB 1.24 runs an update as a read and a whole-document write, so any two writers of
// one document can lose one write: the scheduler's must never put back what the admin replaced. When
// the schedule was kept inside the settings document, 18 of these 40 rounds lost the admin's save on
// FerretDB/PostgreSQL (2026-12-06); the schedule is now a document of its own (domain/schedule).

const T = 'writers-school';
const ROUNDS = 40;

let testDb: TestDatabase;
let db: Db;

beforeAll(async () => {
  testDb = await createTestDatabase('connector_settings_writers');
  db = testDb.db;
});
afterAll(() => testDb?.drop());

const saved = (round: number): VersionedSettings => ({
  _id: T,
  tenantId: T,
  isamsUrl: `https://school-${round}.isams.cloud`,
  format: 'json',
  scheduleMinutes: 60,
  enabled: true,
  key: { kekId: 'k1', binding: 'tenant-origin', iv: `iv-${round}`, ciphertext: `ct-${round}`, tag: 'tag' },
  keyLast4: 'abcd',
  keyUpdatedAt: new Date(),
  timeZone: 'Europe/London',
  notificationEmails: [`office-${round}@school.example`],
  updatedAt: new Date(),
  updatedBy: `admin-${round}@school.example`,
  version: round + 1,
});

describe("connector: the scheduler's writes beside an admin's save", () => {
  it("never put back the address, key or e-mails the admin's save replaced", async () => {
    const repo = new SettingsRepository(db);
    const schedules = new ScheduleRepository(db);
    expect(await repo.save(saved(0))).toBe(true);
    const lost: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      // The scheduler starts a run (its next slot), a failed run backs off, and the admin saves.
      await Promise.all([
        schedules.setNext(T, new Date(Date.now() + round * 60_000)),
        repo.save(saved(round)),
        schedules.setNext(T, new Date(Date.now() + round * 120_000), 1),
      ]);
      const now = await repo.get(T);
      if (
        now?.isamsUrl !== saved(round).isamsUrl ||
        now.notificationEmails?.[0] !== `office-${round}@school.example`
      )
        lost.push(round);
    }
    expect(lost, 'rounds whose save was undone').toEqual([]);
    // The schedule holds one of the two writes sent last (which one lands last is the database's).
    const schedule = await schedules.get(T);
    expect(schedule?.nextRunAt?.getTime()).toBeGreaterThan(Date.now() + ROUNDS * 60_000 - 60_000);
  });

  it('at start-up a schedule stored inside the settings gets a document of its own, and sync that is on gets a time', async () => {
    const schedules = new ScheduleRepository(db);
    const legacy = db.collection<{ _id: string } & Record<string, unknown>>('data_source_settings');
    const due = new Date('2030-01-01T10:00:00Z');
    const now = new Date('2029-06-01T00:00:00Z');
    const school = (id: string, fields: Record<string, unknown>) => ({
      ...saved(1),
      _id: id,
      tenantId: id,
      ...fields,
    });
    await legacy.insertMany([
      // Stored before sync_schedules: its time and streak move.
      school('legacy-a', { nextRunAt: due, consecutiveFailures: 2 }),
      school('legacy-b', { enabled: false, nextRunAt: null, consecutiveFailures: 0 }),
      // A schedule already there wins over the old fields.
      school('legacy-c', { nextRunAt: null }),
      // Sync on without a time (a rollback and forward again): due now.
      school('on-no-schedule', {}),
      school('on-null-time', {}),
      school('off-null-time', { enabled: false }),
    ]);
    await schedules.setNext('legacy-c', due);
    await schedules.setNext('on-null-time', null);
    await schedules.setNext('off-null-time', null);
    expect(await schedules.reconcile(now)).toEqual({ adopted: 2, scheduled: 2 });
    const times = async () =>
      Object.fromEntries(
        (await schedules.coll.find({ _id: { $ne: T } }).toArray()).map((s) => [
          s._id,
          [s.nextRunAt, s.consecutiveFailures],
        ]),
      );
    const after = {
      'legacy-a': [due, 2],
      'legacy-b': [null, 0],
      'legacy-c': [due, 0],
      'on-no-schedule': [now, 0],
      'on-null-time': [now, 0],
      'off-null-time': [null, 0],
    };
    expect(await times()).toEqual(after);
    // A second start changes nothing.
    expect(await schedules.reconcile(new Date())).toEqual({ adopted: 0, scheduled: 0 });
    expect(await times()).toEqual(after);
    const due2030 = (await schedules.due(new Date('2030-01-01T11:00:00Z'), 10)).map((s) => s._id);
    expect(due2030).toEqual(expect.arrayContaining(['legacy-a', 'legacy-c', 'on-no-schedule']));
    expect(due2030).not.toContain('legacy-b');
  });
});
