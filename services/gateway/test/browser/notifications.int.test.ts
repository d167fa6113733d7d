import { randomBytes, randomUUID } from 'node:crypto';
import {
  AdminApiClient,
  eventually,
  startSmtpServer,
  startSystem,
  type RunningSystem,
  type TestSmtpServer,
} from '@isams-sync/testing';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessibilityViolations, launchBrowser } from '../support/browser';

/**
 * Being told, in the Data Dashboard (Debian's chromium) over the whole running system with a real
 * SMTP server: after a good sync and three failures with the same error, the school's contact got
 * one e-mail, the dashboard lists it, and "Data as of" still shows the good sync.
 */
describe('Data Dashboard: e-mails sent and "Data as of" after repeated failures', () => {
  let smtp: TestSmtpServer;
  let system: RunningSystem;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  const schoolId = `notify-${randomBytes(4).toString('hex')}`;
  const apiKey = `{${randomUUID().toUpperCase()}}`;
  let token: string;

  beforeAll(async () => {
    browser = await launchBrowser();
    page = browser.page;
    smtp = await startSmtpServer();
    system = await startSystem({
      env: {
        connector: {
          SMTP_HOST: smtp.host,
          SMTP_PORT: String(smtp.port),
          SMTP_TLS: 'none',
          DASHBOARD_URL: 'https://dashboard.schoolcloud.example',
          NOTIFY_CHECK_INTERVAL_MS: '1h',
        },
      },
    });
    await system.simulator.createSchool(schoolId, { seed: 44, size: 'small', apiKey, cacheMode: 'bypass' });
    token = await system.issueToken(schoolId);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await system?.stop();
    await smtp?.stop();
  }, 60_000);

  const admin = () => new AdminApiClient(system.gatewayUrl, schoolId, token);
  const api = <T>(method: string, path: string, body?: unknown): Promise<T> =>
    admin().call<T>(method, path, body);
  const sync = async () => {
    const { syncRunId } = await admin().triggerSync();
    return admin().waitForRun(syncRunId, { timeoutMs: 60_000, intervalMs: 300 });
  };

  it('lists the e-mail sent and keeps "Data as of" at the last good sync', async () => {
    await api('PUT', '/settings', {
      isamsUrl: system.simulator.url,
      apiKey,
      enabled: true,
      notificationEmails: ['office@notify.example'],
      timeZone: 'Europe/London',
    });
    const good = await sync();
    expect(good.status, system.logs()).toBe('applied');
    await system.simulator.admin('POST', `/admin/schools/${schoolId}/faults`, {
      kind: 'invalidKey',
      times: 3,
    });
    for (let i = 0; i < 3; i++) expect((await sync()).status).toBe('failed');
    await eventually(() => smtp.messages().length > 0, 'the e-mail', { timeoutMs: 60_000 });
    expect(smtp.messages().map((m) => m.to)).toEqual([['office@notify.example']]);

    await page.goto(system.gatewayUrl);
    await page.getByLabel('Admin token').fill(token);
    await page.getByLabel('Admin token').press('Enter');
    await page.getByRole('heading', { name: 'Data Dashboard' }).waitFor();
    const panel = page.locator('#notifications');
    await panel.getByRole('table').waitFor();
    const rows = await panel.locator('tbody tr').allInnerTexts();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toContain('Syncs keep failing');
    expect(rows[0]).toContain('the last 3 syncs failed (ISAMS_INVALID_KEY)');
    // "Data as of" is the good sync's fetch time, as the page formats it.
    const expected = await page.evaluate((iso) => new Date(iso).toLocaleString(), good.fetchedAt!);
    expect(await page.locator('#data-as-of').innerText()).toBe(expected);
    expect(await accessibilityViolations(page, '20-notifications-dashboard')).toEqual([]);
  });
});
