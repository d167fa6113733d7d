import { eventually, getTestInfra, uniqueName } from '@isams-sync/testing';
import { MongoClient } from 'mongodb';
import type { Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunsRepository } from '../../src/adapters/mongo/runs-repository';
import { COLLECTIONS } from '../../src/adapters/mongo/collections';
import { NotificationsRepository } from '../../src/adapters/mongo/notifications-repository';
import { SettingsAuditRepository } from '../../src/adapters/mongo/settings-audit-repository';
import { runAtMarker, runRecord } from '../support/run-records';
import { readCollection, useConnectorSuite } from '../support/connector-harness';

// What the connector keeps of ended runs, dropped past its retention on the real repository and
// database: step claims and kept reports of ended runs (or of runs that are gone), never those of a
// run in flight; ended runs requested before the cut-off, never a run in flight however old.

const T = 'retention-school';
const DAY = 24 * 3_600_000;

let mongo: MongoClient;
let db: Db;

beforeAll(async () => {
  mongo = await new MongoClient(getTestInfra().mongoUrl).connect();
  db = mongo.db(uniqueName('connector-retention'));
});
afterAll(async () => {
  await db?.dropDatabase().catch(() => undefined);
  await mongo?.close();
});

const ids = async (collection: string) =>
  (
    await db
      .collection<{ _id: string }>(collection)
      .find({}, { projection: { _id: 1 } })
      .toArray()
  )
    .map((d) => d._id)
    .sort();

describe('connector: run retention on the database', () => {
  it('drops the step claims and kept reports of ended runs and of runs that are gone; a run in flight keeps its own', async () => {
    const runs = new RunsRepository(db);
    // The runs are of today (the next test drops old runs); their bookkeeping is dated by its writes.
    const now = new Date();
    // Ended: its `published` step claimed, then the roster's `applied` report kept and taken.
    await runs.recordRequested(runAtMarker(T, 'ended', now));
    const ended = (await runs.get(T, 'ended'))!;
    expect(
      (await runs.recordStep(ended, { status: 'published', publishedAt: now }, { sequence: 1 }, null)).won,
    ).toBe(true);
    await runs.recordRosterReport(T, 'ended', 1, {
      status: 'applied',
      rosterStatus: 'applied',
      rosterSequence: 1,
      finishedAt: new Date(),
    });
    // In flight: published, the roster applying it.
    await runs.recordRequested(runAtMarker(T, 'in-flight', now));
    const inFlight = (await runs.get(T, 'in-flight'))!;
    await runs.recordStep(inFlight, { status: 'published', publishedAt: now }, { sequence: 1 }, null);
    await runs.recordRosterReport(T, 'in-flight', 1, {
      status: 'applying',
      rosterStatus: 'applying',
      rosterSequence: 1,
    });
    expect((await runs.get(T, 'in-flight'))?.status).toBe('applying');
    // A step claim of a run that is not there (a crash between the claim and the run's insert).
    await db.collection(COLLECTIONS.runSteps).insertOne({
      _id: 'gone|requested' as never,
      recordId: 'gone',
      step: 'requested',
      patch: {},
      fence: null,
      claimedAt: now,
    });
    expect(await ids(COLLECTIONS.runSteps)).toEqual([
      'ended|marker-attempted',
      'gone|requested',
      'in-flight|marker-attempted',
    ]);
    expect(await ids(COLLECTIONS.runReports)).toEqual([`${T}|ended|1`, `${T}|in-flight|1`]);

    // Nothing is a day old yet: nothing goes.
    expect(await runs.dropEndedBookkeeping(new Date(Date.now() - DAY), 500)).toBe(0);
    // All of it past the cut-off: the ended run's and the gone run's go, the run in flight keeps its own.
    const later = new Date(Date.now() + 60_000);
    expect(await runs.dropEndedBookkeeping(later, 500)).toBe(3);
    expect(await ids(COLLECTIONS.runSteps)).toEqual(['in-flight|marker-attempted']);
    expect(await ids(COLLECTIONS.runReports)).toEqual([`${T}|in-flight|1`]);
    expect(await runs.dropEndedBookkeeping(later, 500)).toBe(0);
    // The ended run reads as it did, and a report repeated after its kept one went changes nothing.
    expect(await runs.get(T, 'ended')).toMatchObject({ status: 'applied', rosterSequence: 1 });
    await runs.recordRosterReport(T, 'ended', 1, {
      status: 'applied',
      rosterStatus: 'applied',
      rosterSequence: 1,
    });
    expect(await runs.get(T, 'ended')).toMatchObject({ status: 'applied', rosterSequence: 1 });
    // No run in flight at all: what is left of a run that is gone goes too (its step claim and
    // report), with the ended run's repeated report, kept again above.
    await db.collection(COLLECTIONS.runs).deleteOne({ _id: 'in-flight' as never });
    expect(await runs.dropEndedBookkeeping(later, 500)).toBe(3);
    expect(await ids(COLLECTIONS.runSteps)).toEqual([]);
    expect(await ids(COLLECTIONS.runReports)).toEqual([]);
  });

  it('drops ended runs requested before the cut-off, a batch at a time; never a run in flight or a newer one', async () => {
    const runs = new RunsRepository(db);
    const other = 'retention-other';
    const daysAgo = (n: number) => new Date(Date.now() - n * DAY);
    for (const [id, at, status] of [
      ['h-failed-500', daysAgo(500), 'failed'],
      ['h-unchanged-401', daysAgo(401), 'unchanged'],
      ['h-held-450', daysAgo(450), 'held'],
      ['h-requested-500', daysAgo(500), 'requested'],
      ['h-fetching-420', daysAgo(420), 'fetching'],
      ['h-applied-399', daysAgo(399), 'applied'],
    ] as const)
      await runs.recordRequested(runRecord(other, id, at, { status, finishedAt: at }));
    const cutOff = daysAgo(400);
    expect(await runs.dropEndedRuns(cutOff, 2)).toBe(2);
    expect(await runs.dropEndedRuns(cutOff, 2)).toBe(1);
    expect(await runs.dropEndedRuns(cutOff, 2)).toBe(0);
    const left = (await ids(COLLECTIONS.runs)).filter((id) => id.startsWith('h-'));
    expect(left).toEqual(['h-applied-399', 'h-fetching-420', 'h-requested-500']);
  });

  it('drops address changes and notification claims made before their cut-offs, of every school', async () => {
    const audit = new SettingsAuditRepository(db);
    const claims = new NotificationsRepository(db);
    const daysAgo = (n: number) => new Date(Date.now() - n * DAY);
    const change = (tenantId: string, at: Date) => ({
      tenantId,
      at,
      actor: `jwt:admin@${tenantId}`,
      requestId: 'req',
      previousOrigin: 'https://old.isams.cloud',
      newOrigin: 'https://new.isams.cloud',
      previousUrl: 'https://old.isams.cloud',
      newUrl: 'https://new.isams.cloud',
      keyEntered: true,
    });
    await audit.begin(change('school-a', daysAgo(800)));
    await audit.begin(change('school-b', daysAgo(731)));
    const kept = await audit.begin(change('school-a', daysAgo(10)));
    const claim = (tenantId: string, day: number) => ({
      _id: `${tenantId}|data_stale|d${day}`,
      tenantId,
      condition: 'data_stale' as const,
      day: `d${day}`,
      claimedAt: daysAgo(day),
      claimedBy: 'replica',
      subject: 'Data is stale',
      recipients: 1,
    });
    for (const c of [claim('school-a', 450), claim('school-b', 401), claim('school-b', 2)])
      await claims.claim(c);

    expect(await audit.dropOlderThan(daysAgo(730))).toBe(2);
    expect(await claims.dropOlderThan(daysAgo(400))).toBe(2);
    expect((await audit.list('school-a', 10)).map((e) => e._id)).toEqual([kept]);
    expect(await audit.list('school-b', 10)).toEqual([]);
    expect((await claims.recent('school-b', daysAgo(500))).map((c) => c._id)).toEqual([
      'school-b|data_stale|d2',
    ]);
    expect(await claims.recent('school-a', daysAgo(500))).toEqual([]);
  });
});

describe('connector: the running service prunes', () => {
  const suite = useConnectorSuite({
    overrides: { retentionIntervalMs: 100 },
    env: { AUDIT_RETENTION_DAYS: '30' },
  });

  it('drops an ended run past RUN_HISTORY_DAYS and an address change past AUDIT_RETENTION_DAYS, and keeps the rest', async () => {
    const client = await new MongoClient(getTestInfra().mongoUrl).connect();
    try {
      const appDb = client.db(suite.env.mongoDb);
      const daysAgo = (n: number) => new Date(Date.now() - n * DAY);
      const runs = new RunsRepository(appDb);
      await runs.recordRequested(
        runRecord(T, 'old-ended', daysAgo(401), { status: 'failed', finishedAt: daysAgo(401) }),
      );
      await runs.recordRequested(
        runRecord(T, 'recent-ended', daysAgo(2), { status: 'failed', finishedAt: daysAgo(2) }),
      );
      const audit = new SettingsAuditRepository(appDb);
      const change = (at: Date) => ({
        tenantId: T,
        at,
        actor: 'jwt:admin',
        requestId: 'req',
        previousOrigin: 'https://a.isams.cloud',
        newOrigin: 'https://b.isams.cloud',
        previousUrl: 'https://a.isams.cloud',
        newUrl: 'https://b.isams.cloud',
        keyEntered: true,
      });
      await audit.begin(change(daysAgo(31)));
      const kept = await audit.begin(change(daysAgo(29)));
      await eventually(async () => {
        const left = await readCollection(suite.env, COLLECTIONS.runs, {});
        return left.length === 1 ? true : undefined;
      }, 'the old run dropped');
      expect((await readCollection(suite.env, COLLECTIONS.runs, {})).map((r) => r._id)).toEqual([
        'recent-ended',
      ]);
      await eventually(
        async () => ((await audit.list(T, 10)).length === 1 ? true : undefined),
        'the old address change dropped',
      );
      expect((await audit.list(T, 10)).map((e) => e._id)).toEqual([kept]);
    } finally {
      await client.close();
    }
  });
});
