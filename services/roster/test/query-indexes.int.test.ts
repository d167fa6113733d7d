import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryIndexReport, recordQueryShapes } from '@isams-sync/mongo';
import type { QueryShapeRecorder } from '@isams-sync/mongo';
import { eventually, uniqueName } from '@isams-sync/testing';
import type { RosterApp } from '../src/app';
import { COLLECTIONS, ROSTER_INDEXES } from '../src/adapters/mongo/roster-store';
import { RunUndo } from '../src/use-cases/run-undo';
import { createHarness, runFinished } from './support/harness';
import type { Harness } from './support/harness';
import { miniSchool } from './support/mini-school';
import { publishSnapshot, snapshotEvents } from './support/school-feed';

/**
 * Queries that scan a collection by design, each with why it is not on a hot path. Anything else
 * the roster sends must be served by an index it declares (`ROSTER_INDEXES`).
 */
const COLD_SCANS: Record<string, string> = {
  // The sweeper's work list: one tiny entry per UNFINISHED changeset, read whole once a minute.
  'openChangesets.find({})': 'the sweeper’s work list (a handful of entries), once a minute',
  // Start-up only: which schools still have a roster in the pre-#17 bucket collection.
  'entityBuckets.distinct({})': 'start-up migration check of a legacy collection',
  // Lease pruning, at most once a sweep: every lease generation document (one or two per school).
  'leases.find({})': 'lease pruning in the sweeper',
};

let h: Harness;
let app: RosterApp;
let recorder: QueryShapeRecorder;

beforeAll(async () => {
  recorder = recordQueryShapes();
  h = await createHarness();
  app = await h.startApp();
});
afterAll(async () => {
  recorder?.stop();
  await h?.close();
});

describe(
  'every query the roster makes has a declared index (MongoDB would not scan)',
  { timeout: 240_000 },
  () => {
    it('runs the roster’s paths (sync, resync, removals, held batch + approval, undo, purge, queries, sweeps incl. abandoned chunks) and checks each query shape', async () => {
      const t = uniqueName('school');
      const publish = async (runId: string, school: ReturnType<typeof miniSchool>) => {
        await publishSnapshot(h.producer, h.topics.raw, t, runId, school);
        return runFinished(app, t, runId);
      };
      expect((await publish('seed', miniSchool(40))).outcome).toBe('applied');
      // An update, a removal, an addition.
      expect(
        (await publish('r2', miniSchool(40, { without: [9], renamed: { 3: 'Renamed' }, extra: [] }))).outcome,
      ).toBe('applied');
      // Removals past the threshold: held, then approved.
      const held = await publish(
        'r3',
        miniSchool(40, {
          without: [9, ...Array.from({ length: 20 }, (_, i) => i + 11)],
          renamed: { 3: 'Renamed' },
        }),
      );
      expect(held.outcome).toBe('held');
      await app.heldBatches.approve({
        tenantId: t,
        batchId: held.heldBatchId!,
        actor: 'admin',
        comment: 'ok',
      });
      await runFinished(app, t, 'r3', 'approval');
      // Undo the approved run's removals.
      await new RunUndo(app.store, app.processor, 14, () => new Date()).undo(t, 'r3', 'admin', 'mistake');
      await app.idle();
      // Queries the gateway and bookings make.
      expect((await app.queries.getEntity(t, 'pupil', '3')).data).toMatchObject({ surname: 'Renamed' });
      for (const status of ['active', 'removed', 'all'] as const)
        await app.queries.listEntities(t, { entityType: 'pupil', status, filters: [], pageSize: 10 });
      await app.queries.getRun(t, 'r2');
      await app.queries.listRunChanges(t, 'r2', {}, 10);
      await app.queries.listRunFindings(t, 'r2', undefined, 10);
      await app.queries.listHeldBatches(t, undefined, 10);
      await app.queries.listHeldBatches(t, 'pending', 10);
      await app.queries.thresholds(t);
      await app.store.pendingBatchStats();
      // A run whose marker never came: chunks only.
      const orphan = snapshotEvents(t, 'orphan', miniSchool(5));
      await h.producer.publish(h.topics.raw, orphan.chunks);
      const orphanChunks = () =>
        h.db.db.collection(COLLECTIONS.chunkReceipts).countDocuments({ tenantId: t, syncRunId: 'orphan' });
      await eventually(
        async () => ((await orphanChunks()) === orphan.chunks.length ? true : undefined),
        'the orphan run’s chunks to be staged',
      );
      // Sweeps: incomplete-run timeouts, resume, purge after grace (pupil 9), pruning, abandoned chunks.
      await app.sweep(new Date(Date.now() + 15 * 86_400_000));
      expect(await app.store.entity(t, 'pupil', '9')).toMatchObject({ purged: true });
      expect(await orphanChunks()).toBe(0);

      const report = queryIndexReport('roster', recorder.shapes(), ROSTER_INDEXES, COLD_SCANS);
      const { shapes } = report;
      // The list, for whoever reads the test output.
      process.stdout.write(report.text);
      expect(shapes.length).toBeGreaterThan(20);
      expect(shapes.some((s) => s.collection === 'entities')).toBe(true);
      expect(shapes.some((s) => s.collection === 'entityManifests')).toBe(true);
      expect(report.hot).toEqual([]);
    });
  },
);
