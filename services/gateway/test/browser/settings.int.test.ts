import { dashboardSignInUrl, type RunningSystem } from '@isams-sync/testing';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  accessibilityViolations,
  expectEveryFieldLabelled as expectEveryFieldLabelledOn,
  screenshot,
} from '../support/browser';
import { useWholeSystemInBrowser } from '../support/browser-system';

const EGRESS_IPS = ['3.11.136.51', '3.11.149.57', '3.11.229.108', '195.89.1.118'];

/**
 * Settings › Data Input Source walked as a school admin in Debian's chromium, against the whole
 * system as processes (simulator, connector, roster, bookings, gateway) on the real Kafka and
 * FerretDB. Every page and state gets an axe-core check and a screenshot. One system, browser and
 * school for the whole file: the describes below are one walk, in order (the second starts on the
 * settings the first saved).
 */
const w = useWholeSystemInBrowser({
  schoolPrefix: 'set',
  seed: 7,
  system: { env: { connector: { EGRESS_IPS: EGRESS_IPS.join(',') } } },
  tokenLabel: 'settings walk',
});
let system: RunningSystem;
let page: Page;
let schoolId: string;
let apiKey: string;
let token: string;
const requested: string[] = [];
const api = <T>(path: string): Promise<T> => w.api<T>('GET', path);
const expectEveryFieldLabelled = (): Promise<void> => expectEveryFieldLabelledOn(page);

beforeAll(() => {
  ({ system, page, schoolId, apiKey, token } = w);
  page.on('request', (r) => requested.push(r.url()));
});

/** The set-up checklist: the 14 datasets in the article's words, the cache, addresses, Integrator Properties. */
async function expectSetupChecklist(): Promise<void> {
  const datasets = page.locator('#datasets-to-tick li');
  await expect(datasets.allTextContents()).resolves.toHaveLength(14);
  await expect(datasets.first().textContent()).resolves.toBe('HR Manager Datasets - Current Staff');
  await expect(datasets.allTextContents()).resolves.toContain('Pupil Manager Datasets - Contacts (Filtered)');
  await expect(datasets.last().textContent()).resolves.toBe('Teaching Manager Datasets - Teaching Set Lists');
  await expect(page.locator('#cache-instruction').textContent()).resolves.toContain('refresh every hour');
  await expect(page.locator('#egress-addresses li').allTextContents()).resolves.toEqual(EGRESS_IPS);
  await expect(page.locator('#integrator-properties li').allTextContents()).resolves.toEqual([
    'School Cloud Systems',
    'SchoolCloud Clubs & Events',
  ]);
}

describe('Settings › Data Input Source in a browser: signing in, testing the connection and saving', () => {
  it('the sign-in link signs in, takes the token out of the address bar and never sends it to the server', async () => {
    const link = dashboardSignInUrl(system.gatewayUrl, token);
    expect(new URL(link).search).toBe('');
    await page.goto(link);
    await page.getByRole('heading', { name: 'Getting Started' }).waitFor();
    expect(page.url()).not.toContain(token);
    expect(page.url()).not.toContain('token=');
    expect(requested.some((url) => url.includes(token))).toBe(false);
    // Before the first test, the wizard shows what to set up in iSAMS.
    await expectSetupChecklist();
    expect(await accessibilityViolations(page, '20-wizard-setup-checklist')).toEqual([]);

    // A wrong link says so and shows the sign-in form.
    await page.goto(dashboardSignInUrl(system.gatewayUrl, 'isg_not-a-real-token'));
    await page.getByText('That token is not valid or was revoked.').waitFor();
    expect(page.url()).not.toContain('isg_not-a-real-token');
    expect(await accessibilityViolations(page, '21-sign-in-link-refused')).toEqual([]);
    await page.goto(dashboardSignInUrl(system.gatewayUrl, token));
    await page.getByRole('heading', { name: 'Getting Started' }).waitFor();
  });

  it('shows the set-up checklist before the first test, tests the connection and saves', async () => {
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Settings › Data Input Source' }).waitFor();
    await expectSetupChecklist();
    await expectEveryFieldLabelled();
    expect(await accessibilityViolations(page, '22-settings-before-first-test')).toEqual([]);

    await page.getByLabel('iSAMS web address').fill(system.simulator.url);
    await page.getByLabel('Batch API key').fill(apiKey);
    // iSAMS refuses our address: the error names the addresses to allow.
    await system.simulator.fault(schoolId, 'ipRefused', 2);
    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.getByRole('heading', { name: 'Connection needs attention' }).waitFor({ timeout: 120_000 });
    const refused = page.locator('.error-box', { hasText: 'iSAMS answered with an error' });
    await expect(refused.textContent()).resolves.toContain(EGRESS_IPS.join(', '));
    expect(await accessibilityViolations(page, '23-settings-ip-refused')).toEqual([]);
    await system.simulator.admin('DELETE', `/admin/schools/${schoolId}/faults`);

    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.getByRole('heading', { name: 'Connection works' }).waitFor({ timeout: 120_000 });
    expect(await accessibilityViolations(page, '24-settings-tested')).toEqual([]);

    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Settings saved.').waitFor();
    await expect(page.getByLabel('Batch API key').inputValue()).resolves.toBe('');
    await page.getByText(`A key ending …${apiKey.slice(-4)} is saved`).waitFor();
    expect(await api('/settings')).toMatchObject({
      configured: true,
      keyLast4: apiKey.slice(-4),
      scheduleMinutes: 60,
      enabled: true,
      timeZone: 'Europe/London',
      notificationEmails: [],
    });
    expect(await accessibilityViolations(page, '25-settings-saved')).toEqual([]);
  });
});

describe('Settings › Data Input Source in a browser: the schedule, who is notified and removal thresholds', () => {
  it('keeps a changed schedule, a pause, the time zone and the contacts over a reload', async () => {
    await page.getByLabel('Sync every (minutes)').fill('120');
    await page.getByLabel('Pause scheduled syncs').check();
    await page.getByLabel('Time zone').selectOption('Europe/Dublin');
    await page
      .getByLabel('Who is notified (e-mail addresses)')
      .fill('office@school.example.org\nBursar@School.Example.org');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Settings saved.').waitFor();
    await page.getByText('Scheduled syncs are paused.').waitFor();

    await page.reload();
    await page.getByRole('heading', { name: 'Settings › Data Input Source' }).waitFor();
    await expect(page.getByLabel('Sync every (minutes)').inputValue()).resolves.toBe('120');
    await expect(page.getByLabel('Pause scheduled syncs').isChecked()).resolves.toBe(true);
    await expect(page.getByLabel('Time zone').inputValue()).resolves.toBe('Europe/Dublin');
    await expect(page.getByLabel('Who is notified (e-mail addresses)').inputValue()).resolves.toBe(
      'office@school.example.org\nBursar@school.example.org',
    );
    expect(await api('/settings')).toMatchObject({
      scheduleMinutes: 120,
      enabled: false,
      nextRunAt: null,
      timeZone: 'Europe/Dublin',
    });
    expect(await accessibilityViolations(page, '26-settings-paused-reloaded')).toEqual([]);

    // Saving in Getting Started (which shows no schedule) no longer forces enabled and 60 minutes.
    await page.goto(`${system.gatewayUrl}/#/setup`);
    await page.getByRole('heading', { name: 'Getting Started' }).waitFor();
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText(/Settings saved \(key …/).waitFor();
    await page.getByText(/Scheduled syncs are paused/).waitFor();
    expect(await api('/settings')).toMatchObject({
      scheduleMinutes: 120,
      enabled: false,
      timeZone: 'Europe/Dublin',
      notificationEmails: ['office@school.example.org', 'Bursar@school.example.org'],
    });

    // Resume.
    await page.goto(`${system.gatewayUrl}/#/settings`);
    await page.getByRole('heading', { name: 'Settings › Data Input Source' }).waitFor();
    await page.getByLabel('Pause scheduled syncs').uncheck();
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText(/Syncs run every 120 minutes; next run/).waitFor();
    expect(await api('/settings')).toMatchObject({ scheduleMinutes: 120, enabled: true });
  });

  it('an invalid e-mail address gets a clear message and nothing is saved', async () => {
    const emails = page.getByLabel('Who is notified (e-mail addresses)');
    await emails.fill('office@school.example.org\nbursar at school');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Line 2: “bursar at school” is not an e-mail address.').waitFor();
    await expect(emails.getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(page.evaluate('document.activeElement?.id')).resolves.toBe('notification-emails');
    expect(await accessibilityViolations(page, '27-settings-invalid-email')).toEqual([]);
    expect((await api<{ notificationEmails: string[] }>('/settings')).notificationEmails).toEqual([
      'office@school.example.org',
      'Bursar@school.example.org',
    ]);

    const eleven = Array.from({ length: 11 }, (_, i) => `admin${i}@school.example.org`).join('\n');
    await emails.fill(eleven);
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('At most 10 addresses can be notified (11 entered).').waitFor();
    await screenshot(page, '28-settings-too-many-emails');
  });

  it('edits the removal thresholds per entity type and keeps them over a reload', async () => {
    await page.reload();
    await page.getByRole('heading', { name: 'Removal thresholds' }).waitFor();
    await expect(page.getByLabel('Default: more than (%)').inputValue()).resolves.toBe('10');
    await expect(page.getByLabel('Default: and more than (records)').inputValue()).resolves.toBe('5');
    await page.getByLabel('Default: more than (%)').fill('15');
    await page.getByLabel('Default: and more than (records)').fill('8');
    await page.getByLabel('pupil: more than (%)').fill('5');
    await page.getByLabel('pupil: and more than (records)').fill('3');
    await page.getByLabel('staff: more than (%)').fill('20');
    await page.getByRole('button', { name: 'Save thresholds' }).click();
    await page.getByText('Removal thresholds saved.').waitFor();
    expect(await accessibilityViolations(page, '29-settings-thresholds-saved')).toEqual([]);

    await page.reload();
    await page.getByRole('heading', { name: 'Removal thresholds' }).waitFor();
    await expect(page.getByLabel('Default: more than (%)').inputValue()).resolves.toBe('15');
    await expect(page.getByLabel('pupil: more than (%)').inputValue()).resolves.toBe('5');
    await expect(page.getByLabel('pupil: and more than (records)').inputValue()).resolves.toBe('3');
    // A type given only a percentage takes the default's record count.
    await expect(page.getByLabel('staff: and more than (records)').inputValue()).resolves.toBe('8');
    await expect(page.getByLabel('contact: more than (%)').inputValue()).resolves.toBe('');
    // Stored by the real roster (Get/SetRemovalThresholds over gRPC).
    expect(await api('/removal-thresholds')).toMatchObject({
      default: { percent: 15, min: 8 },
      byType: expect.arrayContaining([
        { entityType: 'pupil', percent: 5, min: 3 },
        { entityType: 'staff', percent: 20, min: 8 },
      ]),
    });
    await expectEveryFieldLabelled();
    expect(await accessibilityViolations(page, '30-settings-thresholds-reloaded')).toEqual([]);
  });
});
