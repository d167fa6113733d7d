import type { EventProducer } from '@isams-sync/kafka';
import { Writable } from 'node:stream';
import { createLogger } from '@isams-sync/logger';
import { eventually, startSmtpServer } from '@isams-sync/testing';
import type { TestSmtpServer } from '@isams-sync/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useConnectorSuite, fakeRosterProducer, rosterReportEvent } from '../support/connector-harness';

let schools = 0;
const nextKey = () => `{EEEEEEEE-0000-0000-0000-0000000000${String(++schools).padStart(2, '0')}}`;
const DAY = 24 * 3_600_000;
const CONTACTS = ['office@school.example', 'head@school.example'];
const SMTP_USER = 'isams-sync';
const SMTP_PASSWORD = 'smtp-Pa55word-never-logged';

type Counts = Record<string, { added: number; updated: number; removed: number; held: number }>;

// One SMTP server (real, with a password), connector and fake roster producer for every describe
// below, started once for the file; each test has a school of its own, but the log check reads what
// the tests before it logged.
let smtp: TestSmtpServer;
let producer: EventProducer;
// The notifier's clock: tests move it forward a day instead of waiting one.
const clock = { offsetMs: 0 };
// Everything the connector logs (info and up), to check no address or password is in it.
let logged = '';
const logSink = new Writable({
  write(chunk: Buffer, _enc, done) {
    logged += chunk.toString();
    done();
  },
});

beforeAll(async () => {
  smtp = await startSmtpServer({ auth: { user: SMTP_USER, password: SMTP_PASSWORD } });
});
afterAll(async () => {
  await smtp?.stop();
});
const suite = useConnectorSuite({
  env: () => ({
    MANUAL_TRIGGER_LIMIT: '100',
    SMTP_HOST: smtp.host,
    SMTP_PORT: String(smtp.port),
    SMTP_TLS: 'none',
    SMTP_USER,
    SMTP_PASSWORD,
    NOTIFY_FROM: 'iSAMS sync <sync@schoolcloud.example>',
    DASHBOARD_URL: 'https://dashboard.schoolcloud.example',
    NOTIFY_FAILURE_STREAK: '3',
    // The test runs the checks itself.
    NOTIFY_CHECK_INTERVAL_MS: '1h',
  }),
  overrides: {
    notifierNow: () => new Date(Date.now() + clock.offsetMs),
    logger: createLogger({ service: 'connector', level: 'info', destination: logSink }),
  },
});
beforeAll(() => {
  producer = fakeRosterProducer();
});
afterAll(async () => {
  await producer?.disconnect();
});
beforeEach(() => smtp.clear());

/** Creates `tenantId` on the simulator and saves its settings, with `emails` as its contacts. */
const school = async (tenantId: string, emails = CONTACTS) => {
  const key = nextKey();
  await suite.sim.createSchool(tenantId, { seed: 16, size: 'small', apiKey: key });
  await suite.client.putSettings(
    {
      isamsUrl: suite.sim.url,
      apiKey: key,
      enabled: true,
      notificationEmails: emails,
      timeZone: 'Europe/London',
    },
    suite.client.md(tenantId),
  );
};

/** Triggers a run of `tenantId` and waits for its end (published, unchanged or failed); its id. */
const runToEnd = async (tenantId: string): Promise<string> => {
  const { run } = await suite.client.triggerSync({}, suite.client.md(tenantId));
  const ended = await eventually(async () => {
    const r = await suite.client.getSyncRun({ syncRunId: run!.syncRunId }, suite.client.md(tenantId));
    return ['published', 'unchanged', 'failed'].includes(r.status) && r;
  }, 'run end');
  return ended.syncRunId;
};

/** Publishes the roster's report of the run as `status`, and waits until the connector has it. */
const rosterReports = async (
  tenantId: string,
  syncRunId: string,
  status: 'applied' | 'held',
  counts: Counts,
  hold?: { batchId: string; kind: 'removals' | 'whole_run' },
) => {
  await producer.publish(suite.env.runsTopic, [
    rosterReportEvent({ tenantId, syncRunId, status, sequence: 2, counts, ...(hold ? { hold } : {}) }),
  ]);
  await eventually(
    async () => (await suite.client.getSyncRun({ syncRunId }, suite.client.md(tenantId))).status === status,
    `roster report ${status}`,
  );
};

/** A run to its end, then the roster's report that it held `counts` in batch `hold`; its id. */
const heldRun = async (
  tenantId: string,
  counts: Counts,
  hold: { batchId: string; kind: 'removals' | 'whole_run' },
): Promise<string> => {
  const syncRunId = await runToEnd(tenantId);
  await rosterReports(tenantId, syncRunId, 'held', counts, hold);
  return syncRunId;
};

describe('connector: "data as of" through held and failed runs', () => {
  it('a run whose removals are held still brings "data as of" forward; a run held whole does not', async () => {
    const tenant = 'asof-school';
    await school(tenant, []);
    expect((await suite.client.getSyncStatus({}, suite.client.md(tenant))).dataAsOf).toBe('');

    const first = await heldRun(
      tenant,
      { pupil: { added: 2, updated: 1, removed: 0, held: 9 } },
      { batchId: 'batch-1', kind: 'removals' },
    );
    const fetchedAt = (await suite.client.getSyncRun({ syncRunId: first }, suite.client.md(tenant)))
      .fetchedAt;
    const status = await suite.client.getSyncStatus({}, suite.client.md(tenant));
    expect(status.dataAsOf).toBe(fetchedAt);
    expect(status.dataAsOfRunId).toBe(first);

    await heldRun(
      tenant,
      { pupil: { added: 0, updated: 0, removed: 0, held: 300 } },
      { batchId: 'batch-2', kind: 'whole_run' },
    );
    expect((await suite.client.getSyncStatus({}, suite.client.md(tenant))).dataAsOf).toBe(fetchedAt);
  });

  it('"data as of" is stored: 25 failed runs later it is still the last good sync', async () => {
    const tenant = 'asof-failing';
    await school(tenant, []);
    const good = await runToEnd(tenant);
    const published = await suite.client.getSyncRun({ syncRunId: good }, suite.client.md(tenant));
    expect(published.status, JSON.stringify(published.error)).toBe('published');
    await rosterReports(tenant, good, 'applied', { pupil: { added: 300, updated: 0, removed: 0, held: 0 } });
    const fetchedAt = published.fetchedAt;
    await suite.sim.fault(tenant, 'invalidKey', 25);
    for (let i = 0; i < 25; i++) {
      const id = await runToEnd(tenant);
      expect((await suite.client.getSyncRun({ syncRunId: id }, suite.client.md(tenant))).status).toBe(
        'failed',
      );
    }
    expect((await suite.client.getSyncStatus({}, suite.client.md(tenant))).dataAsOf).toBe(fetchedAt);
  });
});

describe("connector notifications: e-mails to the school's contacts (a real SMTP server)", () => {
  it('held removals: one e-mail to the contacts with counts and a link, no names; once a day', async () => {
    const tenant = 'held-school';
    await school(tenant);
    await heldRun(
      tenant,
      {
        pupil: { added: 0, updated: 0, removed: 0, held: 12 },
        contact: { added: 0, updated: 0, removed: 0, held: 20 },
      },
      { batchId: 'batch-held-1', kind: 'removals' },
    );
    const [mail] = await eventually(async () => smtp.messages().length > 0 && smtp.messages(), 'the e-mail');
    expect(mail!.to.sort()).toEqual([...CONTACTS].sort());
    expect(mail!.from).toBe('sync@schoolcloud.example');
    expect(mail!.subject).toBe('iSAMS sync (held-school): 32 removals held for your approval');
    expect(mail!.text).toContain('  - contact: 20\n  - pupil: 12');
    expect(mail!.text).toContain('https://dashboard.schoolcloud.example/#/held/batch-held-1');
    expect(mail!.text).toContain('nobody has been removed');

    // A later run held the same day: no second e-mail.
    const second = await heldRun(
      tenant,
      { pupil: { added: 0, updated: 0, removed: 0, held: 12 } },
      { batchId: 'batch-held-1', kind: 'removals' },
    );
    expect(await suite.app.notifier!.runEnded(tenant, second)).toBe('already_sent_today');
    expect(smtp.messages()).toHaveLength(1);

    // The next day, still held: told again.
    clock.offsetMs = DAY;
    try {
      expect(await suite.app.notifier!.runEnded(tenant, second)).toBe('sent');
    } finally {
      clock.offsetMs = 0;
    }
    expect(smtp.messages()).toHaveLength(2);
    const sent = (await suite.client.getSyncStatus({}, suite.client.md(tenant))).notifications;
    expect(sent.map((n) => n.condition)).toEqual(['removals_held', 'removals_held']);
    expect(sent.every((n) => n.sentAt !== '' && n.recipients === 2)).toBe(true);
  });

  it('the same error 3 runs in a row: one e-mail with what to do, not one per failure', async () => {
    const tenant = 'failing-school';
    await school(tenant);
    await suite.sim.fault(tenant, 'invalidKey', 10);
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) ids.push(await runToEnd(tenant));
    // Two failures are not a streak of three.
    expect(await suite.app.notifier!.runEnded(tenant, ids[1]!)).toBe('nothing_to_tell');
    ids.push(await runToEnd(tenant));
    const [mail] = await eventually(async () => smtp.messages().length > 0 && smtp.messages(), 'the e-mail');
    const failed = await suite.client.getSyncRun({ syncRunId: ids[2]! }, suite.client.md(tenant));
    expect(failed.error!.adminAction).not.toBe('');
    expect(mail!.subject).toBe(
      `iSAMS sync (failing-school): the last 3 syncs failed (${failed.error!.code})`,
    );
    expect(mail!.text).toContain(`${failed.error!.code}: ${failed.error!.message}`);
    expect(mail!.text).toContain(`What to do: ${failed.error!.adminAction}`);

    ids.push(await runToEnd(tenant));
    expect(await suite.app.notifier!.runEnded(tenant, ids[3]!)).toBe('already_sent_today');
    expect(smtp.messages()).toHaveLength(1);
  });

  it('a day-old school: one e-mail per day; refused by the SMTP server → claim given back, sent at the next check', async () => {
    const tenant = 'stale-school';
    await school(tenant);
    const good = await runToEnd(tenant);
    await rosterReports(tenant, good, 'applied', { pupil: { added: 300, updated: 0, removed: 0, held: 0 } });
    const settings = (await suite.app.settings.get(tenant))!;
    expect(await suite.app.notifier!.checkStale(settings)).toBe('nothing_to_tell');

    clock.offsetMs = DAY + 3_600_000;
    try {
      smtp.refuseNext(1);
      expect(await suite.app.notifier!.checkStale(settings)).toBe('not_sent');
      expect(smtp.messages()).toHaveLength(0);
      await suite.app.notifier!.sweep();
      await suite.app.notifier!.sweep();
    } finally {
      clock.offsetMs = 0;
    }
    const stale = smtp.messages().filter((m) => m.subject.includes('stale-school'));
    expect(stale).toHaveLength(1);
    expect(stale[0]!.subject).toBe('iSAMS sync (stale-school): data is more than 24 hours old');
    expect(stale[0]!.text).toContain('The data in SchoolCloud is older than 24 hours');
  });
});

describe('connector notifications: what the logs hold, and the contacts as personal data', () => {
  it('logs say notifications are on, and never hold the SMTP password or an e-mail address', () => {
    expect(logged).toContain('e-mail notifications on');
    expect(logged).toContain('notification e-mail sent');
    expect(logged).not.toContain(SMTP_PASSWORD);
    expect(logged).not.toMatch(/@(school|schoolcloud)\.example/);
  });

  it('the contacts are personal data: the settings keep them, invalid ones are refused', async () => {
    const tenant = 'contacts-school';
    await school(tenant);
    const s = await suite.client.getSettings({}, suite.client.md(tenant));
    expect(s.notificationEmails).toEqual(CONTACTS);
    expect(s.timeZone).toBe('Europe/London');
    await expect(
      suite.client.putSettings(
        { isamsUrl: suite.sim.url, enabled: true, notificationEmails: ['not an address'] },
        suite.client.md(tenant),
      ),
    ).rejects.toThrow(/notificationEmails/);
  });
});
