import { createLogger } from '@isams-sync/logger';
import { describe, expect, it } from 'vitest';
import { ConnectorErrors } from '../../src/domain/connector-errors';
import type { RunRecord } from '../../src/domain/run-record';
import type { SchoolSettings } from '../../src/domain/school-settings';
import type { RunError, RunStatus } from '../../src/domain/sync-run';
import { Notifier } from '../../src/use-cases/notifier';
import {
  InMemoryFreshness,
  InMemoryNotificationClaims,
  InMemoryRunHistory,
  InMemorySettingsRecords,
  RecordingMailer,
  schoolSettings,
} from '../support/in-memory/settings-ports';

// The notifier's decisions on in-memory stores and a recording mailer: what is told, to whom, at
// most once per school, condition and local day, and tried again when the SMTP server refused it.
// The message texts are domain/notifications (test/domain/notifications.test.ts); SMTP and two
// replicas: test/int/notifications.int.test.ts.

const logger = createLogger({ service: 'notifier-test', level: 'silent' });
const T = 'school-a';
const NOW = new Date('2026-03-10T12:00:00Z');
const HOUR = 3_600_000;
const INVALID_KEY: RunError = { code: 'ISAMS_INVALID_KEY', message: 'key refused', transient: false };
const THROTTLED: RunError = { code: 'ISAMS_THROTTLED', message: 'slow down', transient: true };

let nextRun = 0;
function run(status: RunStatus, at: Date, extra: Partial<RunRecord> = {}): RunRecord {
  nextRun += 1;
  return {
    _id: `run-${String(nextRun).padStart(3, '0')}`,
    tenantId: T,
    status,
    trigger: { kind: 'schedule' },
    dryRun: false,
    requestedAt: at,
    finishedAt: at,
    datasets: [],
    absent: [],
    unknownContainers: [],
    findings: [],
    sequence: 1,
    updatedAt: at,
    ...extra,
  } as RunRecord;
}

const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000);
const failed = (m: number, error = INVALID_KEY, extra: Partial<RunRecord> = {}) =>
  run('failed', minutesAgo(m), { error, ...extra });

function setup(opts: { settings?: Partial<SchoolSettings>; runs?: RunRecord[]; streak?: number } = {}) {
  const settings = new InMemorySettingsRecords([
    schoolSettings(T, {
      notificationEmails: ['office@school.example'],
      timeZone: 'Europe/London',
      ...opts.settings,
    }),
  ]);
  const runs = new InMemoryRunHistory().add(...(opts.runs ?? []));
  const freshness = new InMemoryFreshness();
  const notifications = new InMemoryNotificationClaims();
  const mailer = new RecordingMailer();
  let now = NOW;
  const notifier = new Notifier(
    { settings, runs, freshness, notifications, mailer, logger },
    {
      owner: 'replica-1',
      failureStreak: opts.streak ?? 3,
      staleAfterMs: 24 * HOUR,
      checkIntervalMs: 60_000,
      dashboardUrl: 'https://dashboard.example',
      now: () => now,
    },
  );
  const setNow = (at: Date) => (now = at);
  return { notifier, settings, runs, freshness, notifications, mailer, setNow };
}

describe('notifier: failing runs', () => {
  it('tells the contacts once the last N real runs failed with the same error, once a day', async () => {
    const w = setup({ runs: [failed(30), failed(20)] });
    const third = failed(10);
    w.runs.add(third);
    expect(await w.notifier.runEnded(T, third._id)).toBe('sent');
    expect(w.mailer.sent).toHaveLength(1);
    expect(w.mailer.sent[0]).toMatchObject({ to: ['office@school.example'] });
    expect(w.mailer.sent[0]!.subject).toContain('ISAMS_INVALID_KEY');
    const claim = [...w.notifications.claims.values()][0]!;
    expect(claim).toMatchObject({
      _id: `${T}|runs_failing|2026-03-10`,
      condition: 'runs_failing',
      day: '2026-03-10',
      claimedBy: 'replica-1',
      recipients: 1,
      syncRunId: third._id,
      sentAt: NOW,
    });
    // A fourth failure the same day: already told.
    const fourth = failed(5);
    w.runs.add(fourth);
    expect(await w.notifier.runEnded(T, fourth._id)).toBe('already_sent_today');
    expect(w.mailer.sent).toHaveLength(1);
  });

  it('no streak: fewer failures than N, different errors, or a good run in between', async () => {
    const fewer = setup({ runs: [failed(20), failed(10)] });
    expect(await fewer.notifier.runEnded(T, fewer.runs.runs[1]!._id)).toBe('nothing_to_tell');

    const mixed = setup({ runs: [failed(30), failed(20, THROTTLED), failed(10)] });
    expect(await mixed.notifier.runEnded(T, mixed.runs.runs[2]!._id)).toBe('nothing_to_tell');

    const broken = setup({ runs: [failed(40), failed(30), run('applied', minutesAgo(20)), failed(10)] });
    expect(await broken.notifier.runEnded(T, broken.runs.runs[3]!._id)).toBe('nothing_to_tell');
    for (const w of [fewer, mixed, broken]) expect(w.mailer.sent).toHaveLength(0);
  });

  it('dry runs neither count in the streak nor break it, and a dry run ending tells nothing', async () => {
    const dry = run('failed', minutesAgo(15), { dryRun: true, error: THROTTLED });
    const w = setup({ runs: [failed(30), dry, failed(20), failed(10)] });
    expect(await w.notifier.runEnded(T, dry._id)).toBe('nothing_to_tell');
    expect(await w.notifier.runEnded(T, w.runs.runs[3]!._id)).toBe('sent');
  });

  it('a refused e-mail gives its claim back and is sent at the next check the same day', async () => {
    const w = setup({ runs: [failed(30), failed(20), failed(10)] });
    w.freshness.dataAsOf.set(T, minutesAgo(60));
    w.mailer.refuse = 1;
    expect(await w.notifier.runEnded(T, w.runs.runs[2]!._id)).toBe('not_sent');
    expect(w.notifications.claims.size).toBe(0);
    await w.notifier.sweep();
    expect(w.mailer.sent).toHaveLength(1);
    expect([...w.notifications.claims.values()][0]!.sentAt).toEqual(NOW);
  });

  it('a claim that cannot be given back stays (that day is lost), and the next day tells again', async () => {
    const w = setup({ runs: [failed(30), failed(20), failed(10)] });
    w.mailer.refuse = 1;
    w.notifications.failRelease = true;
    expect(await w.notifier.checkFailing((await w.settings.get(T))!)).toBe('not_sent');
    expect(await w.notifier.checkFailing((await w.settings.get(T))!)).toBe('already_sent_today');
    w.setNow(new Date(NOW.getTime() + 24 * HOUR));
    expect(await w.notifier.checkFailing((await w.settings.get(T))!)).toBe('sent');
    expect(w.mailer.sent).toHaveLength(1);
  });

  it('an e-mail the SMTP server took but did not confirm keeps its claim: not sent again that day', async () => {
    const w = setup({ runs: [failed(30), failed(20), failed(10)] });
    w.freshness.dataAsOf.set(T, minutesAgo(60));
    // The server has the message, but its reply never came (a time-out after the message).
    const send = w.mailer.send.bind(w.mailer);
    w.mailer.send = async (mail) => {
      await send(mail);
      throw ConnectorErrors.CONNECTOR_NOTIFICATION_UNCONFIRMED({ reason: 'ETIMEDOUT' });
    };
    expect(await w.notifier.runEnded(T, w.runs.runs[2]!._id)).toBe('unconfirmed');
    const claim = [...w.notifications.claims.values()][0]!;
    expect(claim).toMatchObject({ condition: 'runs_failing', day: '2026-03-10' });
    expect(claim.sentAt).toBeUndefined();
    await w.notifier.sweep();
    await w.notifier.sweep();
    expect(w.mailer.sent).toHaveLength(1);
    // The next day, still failing: told again.
    w.setNow(new Date(NOW.getTime() + 24 * HOUR));
    expect(await w.notifier.checkFailing((await w.settings.get(T))!)).toBe('unconfirmed');
    expect(w.mailer.sent).toHaveLength(2);
  });

  it("the day of a claim is the school's local day", async () => {
    // 23:30 UTC on 10 March is already 11 March in Auckland.
    const late = new Date('2026-03-10T23:30:00Z');
    const w = setup({
      settings: { timeZone: 'Pacific/Auckland' },
      runs: [failed(30), failed(20), failed(10)],
    });
    w.setNow(late);
    expect(await w.notifier.checkFailing((await w.settings.get(T))!)).toBe('sent');
    expect([...w.notifications.claims.keys()]).toEqual([`${T}|runs_failing|2026-03-11`]);
  });

  it('no contacts: nothing claimed, nothing sent', async () => {
    const w = setup({ settings: { notificationEmails: [] }, runs: [failed(30), failed(20), failed(10)] });
    expect(await w.notifier.runEnded(T, w.runs.runs[2]!._id)).toBe('no_contacts');
    expect(w.notifications.claims.size).toBe(0);
  });
});

describe('notifier: held removals and old data', () => {
  it('a held run tells the contacts what is held, naming the held batch', async () => {
    const held = run('held', minutesAgo(5), {
      holdKind: 'removals',
      heldBatchId: 'batch-9',
      rosterCounts: { pupils: { held: 12 }, staff: { held: 0 }, yearGroups: null },
    });
    const w = setup({ runs: [held] });
    expect(await w.notifier.runEnded(T, held._id)).toBe('sent');
    expect(w.mailer.sent[0]!.text).toContain('12');
    expect([...w.notifications.claims.values()][0]).toMatchObject({
      condition: 'removals_held',
      syncRunId: held._id,
    });
    // An unknown run, a school without settings and an applied run tell nothing.
    expect(await w.notifier.runEnded(T, 'no-such-run')).toBe('nothing_to_tell');
    expect(await w.notifier.runEnded('other-school', held._id)).toBe('nothing_to_tell');
    const applied = run('applied', minutesAgo(1));
    w.runs.add(applied);
    expect(await w.notifier.runEnded(T, applied._id)).toBe('nothing_to_tell');
  });

  it('a refused held-removals e-mail is sent at the next check, once', async () => {
    const held = run('held', minutesAgo(5), {
      holdKind: 'removals',
      heldBatchId: 'batch-9',
      rosterCounts: { pupils: { held: 12 } },
    });
    const w = setup({ runs: [held] });
    w.freshness.dataAsOf.set(T, minutesAgo(60));
    w.mailer.refuse = 1;
    expect(await w.notifier.runEnded(T, held._id)).toBe('not_sent');
    expect(w.notifications.claims.size).toBe(0);
    await w.notifier.sweep();
    expect(w.mailer.sent.map((m) => m.subject)).toEqual([
      `iSAMS sync (${T}): 12 removals held for your approval`,
    ]);
    expect(w.mailer.sent[0]!.text).toContain('https://dashboard.example/#/held/batch-9');
    expect([...w.notifications.claims.values()]).toMatchObject([
      { condition: 'removals_held', syncRunId: held._id, sentAt: NOW },
    ]);
    await w.notifier.sweep();
    expect(w.mailer.sent).toHaveLength(1);
  });

  it('the check tells of a held run reported today while no later run reached the roster', async () => {
    const held = (m: number) =>
      run('held', minutesAgo(m), { holdKind: 'whole_run', heldBatchId: 'batch-w', rosterCounts: {} });
    const heldTold = async (runs: RunRecord[]) => {
      const w = setup({ runs });
      w.freshness.dataAsOf.set(T, minutesAgo(60));
      await w.notifier.sweep();
      return w.mailer.sent.filter((m) => m.subject.includes('held')).length;
    };
    // Held, then a run that failed before it reached the roster: the batch is still pending.
    expect(await heldTold([held(30), failed(10)])).toBe(1);
    // Held yesterday: that day's e-mail was that day's (a discarded batch is not reported to the
    // connector, so the check does not remind of it); a held run today tells again.
    expect(await heldTold([held(24 * 60)])).toBe(0);
    // Held, then applied (an approval reports the held run itself applied): nothing to tell.
    expect(await heldTold([held(30), run('applied', minutesAgo(10))])).toBe(0);
    expect(await heldTold([run('held', minutesAgo(10), { dryRun: true, holdKind: 'removals' })])).toBe(0);
  });

  it('data older than the limit is told about (with the last error); fresh or paused schools are not', async () => {
    const w = setup({ runs: [failed(10, THROTTLED)] });
    w.freshness.dataAsOf.set(T, new Date(NOW.getTime() - 25 * HOUR));
    const s = (await w.settings.get(T))!;
    expect(await w.notifier.checkStale(s)).toBe('sent');
    expect(w.mailer.sent[0]!.subject).toContain('more than 24 hours old');
    expect(w.mailer.sent[0]!.text).toContain('ISAMS_THROTTLED');
    expect(await w.notifier.checkStale(s)).toBe('already_sent_today');

    w.freshness.dataAsOf.set(T, new Date(NOW.getTime() - 23 * HOUR));
    w.notifications.claims.clear();
    expect(await w.notifier.checkStale(s)).toBe('nothing_to_tell');
    w.freshness.dataAsOf.set(T, new Date(NOW.getTime() - 48 * HOUR));
    expect(await w.notifier.checkStale({ ...s, enabled: false })).toBe('nothing_to_tell');
  });

  it('never synced: stale once the school was set up longer ago than the limit', async () => {
    const w = setup({ settings: { keyUpdatedAt: new Date(NOW.getTime() - 2 * HOUR) } });
    expect(await w.notifier.checkStale((await w.settings.get(T))!)).toBe('nothing_to_tell');
    w.setNow(new Date(NOW.getTime() + 23 * HOUR));
    expect(await w.notifier.checkStale((await w.settings.get(T))!)).toBe('sent');
  });

  it('the sweep checks every school with contacts, and one failing check does not stop the others', async () => {
    const w = setup({ runs: [failed(30), failed(20), failed(10)] });
    w.freshness.dataAsOf.set(T, new Date(NOW.getTime() - 30 * HOUR));
    await w.settings.put(schoolSettings('quiet-school', { notificationEmails: [] }));
    await w.settings.put(schoolSettings('broken-school', { notificationEmails: ['x@school.example'] }));
    const runs = w.runs;
    const newest = runs.newest.bind(runs);
    runs.newest = (tenantId, statuses, limit) =>
      tenantId === 'broken-school'
        ? Promise.reject(new Error('database unavailable'))
        : newest(tenantId, statuses, limit);
    await w.notifier.sweep();
    expect(new Set(w.mailer.sent.map((m) => m.subject.split(':')[0]))).toEqual(
      new Set([`iSAMS sync (${T})`]),
    );
    expect([...w.notifications.claims.values()].map((c) => c.condition).sort()).toEqual([
      'data_stale',
      'runs_failing',
    ]);
  });

  it('stop closes the mailer', async () => {
    const w = setup();
    w.notifier.start();
    await w.notifier.stop();
    expect(w.mailer.closed).toBe(true);
  });
});
