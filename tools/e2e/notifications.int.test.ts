import {
  eventually,
  getTestInfra,
  startSmtpServer,
  startSystem,
  type RunningSystem,
  type TestSmtpServer,
} from '@isams-sync/testing';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { School } from './support';

interface Overview {
  dataAsOf: string | null;
  notifications: Array<{
    condition: string;
    day: string;
    sentAt: string | null;
    recipients: number;
    subject: string;
  }>;
}

/**
 * Being told, over the real processes: the connector e-mails each school's contacts through a real
 * SMTP server (npm `smtp-server`, started by the test) when removals are held, when the same error
 * fails three runs in a row (with the admin action), and when its data is a day old — one e-mail
 * per condition per school per day.
 */
describe('e2e: e-mail notifications received by a real SMTP server', () => {
  let smtp: TestSmtpServer;
  let system: RunningSystem;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    system = await startSystem({
      holdPercent: 10,
      holdMin: 5,
      env: {
        connector: {
          SMTP_HOST: smtp.host,
          SMTP_PORT: String(smtp.port),
          SMTP_TLS: 'none',
          NOTIFY_FROM: 'iSAMS sync <sync@schoolcloud.example>',
          DASHBOARD_URL: 'https://dashboard.schoolcloud.example',
          NOTIFY_FAILURE_STREAK: '3',
          NOTIFY_CHECK_INTERVAL_MS: '1s',
        },
      },
    });
  }, 240_000);

  afterAll(async () => {
    await system?.stop();
    await smtp?.stop();
  }, 90_000);

  const mailsFor = (schoolId: string) => smtp.messages().filter((m) => m.subject.includes(`(${schoolId})`));
  const waitForMail = (schoolId: string, match: RegExp, timeoutMs = 120_000) =>
    eventually(
      () => {
        const found = mailsFor(schoolId).filter((m) => match.test(m.subject));
        return found.length > 0 ? found : undefined;
      },
      `an e-mail ${match} for ${schoolId}`,
      {
        timeoutMs,
        intervalMs: 200,
        detail: () => `got ${JSON.stringify(smtp.messages().map((m) => m.subject))}`,
      },
    );
  const withContacts = async (school: School, emails: string[]) =>
    school.api('PUT', '/settings', {
      isamsUrl: system.simulator.url,
      format: 'xml',
      scheduleMinutes: 60,
      enabled: true,
      notificationEmails: emails,
    });

  it('held removals → one e-mail with the counts and the link to the held batch; "data as of" is that run', async () => {
    const school = await School.create(system, 'e2e-notify-held', 31);
    await withContacts(school, ['office@held.example', 'head@held.example']);
    expect((await school.sync()).status, system.logs()).toBe('applied');

    await school.sim('POST', '/churn', { leavers: 40, joiners: 2 });
    const held = await school.sync();
    expect(held.status, JSON.stringify(held.error)).toBe('held');
    expect(held.heldBatchId).toBeTruthy();

    const [mail] = await waitForMail(school.id, /removals? held for your approval/);
    expect(mail!.to.sort()).toEqual(['head@held.example', 'office@held.example']);
    expect(mail!.from).toBe('sync@schoolcloud.example');
    expect(mail!.text).toContain(`https://dashboard.schoolcloud.example/#/held/${held.heldBatchId}`);
    expect(mail!.text).toContain('  - pupil: 40');
    expect(mail!.text).toContain('Additions and updates were applied');

    // The run applied its 2 joiners: the data is as of that run, though its removals are held.
    const run = await school.api<{ fetchedAt: string }>('GET', `/sync-runs/${held.syncRunId}`);
    const overview = await school.api<Overview>('GET', '/overview');
    expect(overview.dataAsOf).toBe(run.fetchedAt);
    expect(overview.notifications.map((n) => n.condition)).toEqual(['removals_held']);
    expect(overview.notifications[0]!.recipients).toBe(2);
  });

  it('the same error three runs in a row → one e-mail with the admin action, not one per failure', async () => {
    const school = await School.create(system, 'e2e-notify-failing', 32);
    await withContacts(school, ['office@failing.example']);
    await school.sim('POST', '/faults', { kind: 'invalidKey', times: 10 });
    const runs = [];
    for (let i = 0; i < 4; i++) runs.push(await school.sync());
    expect(runs.every((r) => r.status === 'failed' && r.error?.code === 'ISAMS_INVALID_KEY')).toBe(true);

    const [mail] = await waitForMail(school.id, /the last 3 syncs failed/);
    expect(mail!.to).toEqual(['office@failing.example']);
    expect(mail!.subject).toBe(
      'iSAMS sync (e2e-notify-failing): the last 3 syncs failed (ISAMS_INVALID_KEY)',
    );
    expect(mail!.text).toContain(`What to do: ${runs[2]!.error!.adminAction}`);
    // The claim for (school, runs_failing, today) is unique: the 4th failure and every check since sent nothing.
    const overview = await school.api<Overview>('GET', '/overview');
    expect(overview.notifications.filter((n) => n.condition === 'runs_failing')).toHaveLength(1);
    expect(mailsFor(school.id).filter((m) => /syncs failed/.test(m.subject))).toHaveLength(1);
  });

  it('a school whose last good sync was 25 hours ago → one e-mail that its data is a day old', async () => {
    const school = await School.create(system, 'e2e-notify-stale', 33);
    await withContacts(school, ['office@stale.example']);
    const good = await school.sync();
    expect(good.status).toBe('applied');
    expect(mailsFor(school.id)).toEqual([]);

    // The clock is not waited for: the school's recorded last good sync is moved 25 hours back.
    const dayAgo = new Date(Date.now() - 25 * 3_600_000);
    const client = new MongoClient(getTestInfra().mongoUrl);
    await client.connect();
    try {
      await client
        .db(system.databases.connector)
        .collection<{ _id: string; dataAsOf: Date }>('data_freshness')
        .updateOne({ _id: school.id }, { $set: { dataAsOf: dayAgo } });
    } finally {
      await client.close();
    }
    const [mail] = await waitForMail(school.id, /data is more than 24 hours old/);
    expect(mail!.to).toEqual(['office@stale.example']);
    expect(mail!.text).toContain('The data in SchoolCloud is older than 24 hours');
    // The connector checks every second; the overview lists the one e-mail of today, and the
    // other schools' e-mails were each sent once across all those checks.
    const overview = await school.api<Overview>('GET', '/overview');
    expect(overview.notifications.map((n) => n.condition)).toEqual(['data_stale']);
    expect(mailsFor(school.id)).toHaveLength(1);
    expect(mailsFor('e2e-notify-failing').filter((m) => /syncs failed/.test(m.subject))).toHaveLength(1);
    expect(mailsFor('e2e-notify-held').filter((m) => /held/.test(m.subject))).toHaveLength(1);
  });
});
