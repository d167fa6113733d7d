import type { EventProducer } from '@isams-sync/kafka';
import { createLogger } from '@isams-sync/logger';
import { queryIndexReport, recordQueryShapes } from '@isams-sync/mongo';
import type { QueryShapeRecorder } from '@isams-sync/mongo';
import { eventually, getTestInfra, startSmtpServer } from '@isams-sync/testing';
import type { TestSmtpServer } from '@isams-sync/testing';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONNECTOR_INDEXES } from '../../src/adapters/mongo/collections';
import { NotificationsRepository } from '../../src/adapters/mongo/notifications-repository';
import { RunsRepository } from '../../src/adapters/mongo/runs-repository';
import { SettingsAuditRepository } from '../../src/adapters/mongo/settings-audit-repository';
import { RunRetention } from '../../src/use-cases/run-retention';
import { fakeRosterProducer, rosterReportEvent, useConnectorSuite } from '../support/connector-harness';

/**
 * Queries that scan a collection by design, each with why it is not on a hot path. Anything else
 * the connector sends must be served by an index it declares (`CONNECTOR_INDEXES`), so that on
 * MongoDB no query of a run, a trigger or an admin's read scans (the roster's twin:
 * services/roster/test/query-indexes.int.test.ts).
 */
const COLD_SCANS: Record<string, string> = {
  // Start-up only (before any call is served).
  'data_source_settings.find({key.binding?})': 'start-up: keys stored before the host binding are bound',
  'sync_schedules.find({})': 'start-up: the schedules’ reconciliation with the settings (one per school)',
  // One document per school, read whole by periodic checks.
  'data_source_settings.find({})':
    'one per school: the start-up reconciliation, the notifier’s checks (NOTIFY_CHECK_INTERVAL_MS) and the KEK rotation',
  'data_freshness.find({})': 'one per school: the freshness gauges, once per metrics sample',
  // Tiny by design: an entry lives only while its run waits or runs.
  'run_queue.find({})': 'the work queue: one entry per requested run not yet started',
  'active_runs.find({})': 'one slot per school with a run queued or running: the stale-run sweep',
  // Lease pruning, hourly: every lease generation (one or two per school).
  'run_leases.find({})': 'lease pruning',
};

// Recording starts before the suite's connector connects (hooks run in the order they are registered).
let recorder: QueryShapeRecorder;
beforeAll(() => {
  recorder = recordQueryShapes();
});
afterAll(() => recorder?.stop());
let smtp: TestSmtpServer;
beforeAll(async () => {
  smtp = await startSmtpServer();
});
afterAll(async () => {
  await smtp?.stop();
});
const suite = useConnectorSuite({
  env: () => ({
    SCHEDULE_JITTER_MS: '0',
    SMTP_HOST: smtp.host,
    SMTP_PORT: String(smtp.port),
    SMTP_TLS: 'none',
    NOTIFY_FROM: 'iSAMS sync <sync@schoolcloud.example>',
    DASHBOARD_URL: 'https://dashboard.schoolcloud.example',
    NOTIFY_CHECK_INTERVAL_MS: '1h',
  }),
});
let producer: EventProducer;
beforeAll(() => {
  producer = fakeRosterProducer();
});
afterAll(async () => {
  await producer?.disconnect();
});

const KEY_A = '{CCCCCCCC-1111-2222-3333-000000000001}';
const KEY_B = '{CCCCCCCC-1111-2222-3333-000000000002}';

describe(
  'every query the connector makes has a declared index (MongoDB would not scan)',
  { timeout: 240_000 },
  () => {
    it('runs the connector’s paths (settings, runs, roster reports, scheduler, sweeps, notifier, retention, KEK rotation) and checks each query shape', async () => {
      const { client, app } = suite;
      const a = 'qi-school-a';
      const b = 'qi-school-b';
      await suite.sim.createSchool(a, { seed: 5, size: 'small', apiKey: KEY_A });
      await suite.sim.createSchool(b, { seed: 6, size: 'small', apiKey: KEY_B });
      // Settings: saved, read, tested, saved again at another address (audited).
      const save = (t: string, key: string, url = suite.sim.url) =>
        client.putSettings(
          { isamsUrl: url, apiKey: key, enabled: true, notificationEmails: ['office@school.example'] },
          client.md(t),
        );
      await save(a, KEY_A);
      await client.getSettings({}, client.md(a));
      await client.getEgressInfo({}, client.md(a));
      await client.testConnection({}, client.md(a));
      await save(a, KEY_A, `${suite.sim.url}/`);
      // A manual run to its end; its views; the roster's reports; then an unchanged run.
      const { run } = await client.triggerSync({}, client.md(a));
      await client.runReaching(a, run!.syncRunId, ['published'], 'first run');
      await client.listSyncRuns({}, client.md(a));
      await client.listSyncRuns({ statuses: ['published', 'applied'] }, client.md(a));
      await client.getSyncStatus({}, client.md(a));
      await client.cancelSyncRun({ syncRunId: run!.syncRunId }, client.md(a)).catch(() => undefined);
      await producer.publish(suite.env.runsTopic, [
        rosterReportEvent({ tenantId: a, syncRunId: run!.syncRunId, status: 'applying', sequence: 1 }),
        rosterReportEvent({ tenantId: a, syncRunId: run!.syncRunId, status: 'applied', sequence: 2 }),
      ]);
      await client.runReaching(a, run!.syncRunId, ['applied'], 'roster report');
      await client.watch(a, run!.syncRunId);
      const { run: again } = await client.triggerSync({}, client.md(a));
      expect((await client.runReaching(a, again!.syncRunId, ['unchanged'], 'unchanged run')).status).toBe(
        'unchanged',
      );
      // The scheduler: school b is due at once (no jitter) and is run by the tick.
      await save(b, KEY_B);
      await app.engine.schedulerTick();
      await eventually(
        async () => (await client.listSyncRuns({}, client.md(b))).runs.some((r) => r.status === 'published'),
        'the scheduled run of b',
      );
      // A held run, then its batch's decision: the runs held on a batch are found and decided, and a
      // held report reads whether its batch was decided before.
      const scheduled = (await client.listSyncRuns({}, client.md(b))).runs.find(
        (r) => r.status === 'published',
      )!;
      const hold = { batchId: 'qi-batch', kind: 'removals' as const };
      await producer.publish(suite.env.runsTopic, [
        rosterReportEvent({ tenantId: b, syncRunId: scheduled.syncRunId, status: 'held', sequence: 2, hold }),
        rosterReportEvent({
          tenantId: b,
          syncRunId: scheduled.syncRunId,
          status: 'discarded',
          sequence: 3,
          hold,
        }),
      ]);
      await client.runReaching(b, scheduled.syncRunId, ['discarded'], 'the held batch discarded');
      // Sweeps, the notifier's checks, the metrics sampler, the KEK rotation.
      await app.engine.sweepStale();
      await app.notifier!.sweep();
      await fetch(`http://127.0.0.1:${app.opsPort}/metrics`);
      await client.rotateKeyEncryption({}, client.md(a));
      // The retention prune, on a client of its own (recorded too).
      const mongo = await new MongoClient(getTestInfra().mongoUrl, { monitorCommands: true }).connect();
      try {
        recorder.attach(mongo);
        const db = mongo.db(suite.env.mongoDb);
        await new RunRetention(
          {
            runs: new RunsRepository(db),
            settingsAudit: new SettingsAuditRepository(db),
            notifications: new NotificationsRepository(db),
          },
          createLogger({ service: 'query-indexes', level: 'silent' }),
          { historyMs: 400 * 86_400_000, auditMs: 730 * 86_400_000, intervalMs: 3_600_000 },
        ).prune();
      } finally {
        await mongo.close();
      }

      const report = queryIndexReport('connector', recorder.shapes(), CONNECTOR_INDEXES, COLD_SCANS);
      const { shapes } = report;
      process.stdout.write(report.text);
      expect(shapes.length).toBeGreaterThan(20);
      for (const c of ['sync_runs', 'sync_schedules', 'run_steps', 'run_reports', 'notifications'])
        expect(shapes.some((s) => s.collection === c)).toBe(true);
      expect(report.hot).toEqual([]);
    });
  },
);
