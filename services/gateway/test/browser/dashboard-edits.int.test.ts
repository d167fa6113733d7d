import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallContext } from '../../src/domain/principal';
import { accessibilityViolations } from '../support/browser';
import { startSignedInDashboard } from '../support/dashboard-harness';
import type { SignedInDashboard } from '../support/dashboard-harness';
import { sampleRun } from '../support/fake-connector';
import type { GatewayHarness } from '../support/gateway-harness';

const SCHOOL_A = { tenantId: 'school-a', actor: 'test' } as CallContext;

/** Presses "Save thresholds" and waits for the gateway's answer. */
async function saveThresholds(tab: Page): Promise<void> {
  const saved = tab.waitForResponse(
    (r) => r.request().method() === 'PUT' && r.url().endsWith('/removal-thresholds'),
  );
  await tab.getByRole('button', { name: 'Save thresholds' }).click();
  expect((await saved).status()).toBe(200);
  await tab.getByText('Removal thresholds saved.').waitFor();
}

/** Presses "Save settings" and waits for "Settings saved.". */
async function saveSettings(tab: Page): Promise<void> {
  await tab.getByRole('button', { name: 'Save settings' }).click();
  await tab.getByText('Settings saved.').waitFor();
}

/** Presses "Save settings" on a page older than the stored settings: the refusal shown, the body sent. */
async function saveRefusedAsStale(tab: Page): Promise<unknown> {
  const put = tab.waitForRequest((r) => r.method() === 'PUT' && r.url().endsWith('/settings'));
  await tab.getByRole('button', { name: 'Save settings' }).click();
  await tab
    .getByText('Someone else saved these settings after this page showed them: nothing was saved')
    .waitFor();
  await tab.getByText('Code CONNECTOR_SETTINGS_CHANGED').waitFor();
  return (await put).postDataJSON();
}

/** Presses "Show the saved settings" after a refused save and waits for the form to show them. */
async function showSavedSettings(tab: Page): Promise<void> {
  await tab.getByRole('button', { name: 'Show the saved settings' }).click();
  await tab.getByText('These are the saved settings now. Make your change again and save.').waitFor();
}

/**
 * What an admin typed or another admin saved is not lost, and the dashboard says what happened:
 * two admins' settings pages, the skip link, an over-long decision comment, a dry run's end, a run
 * whose held changes were discarded or superseded by a later sync (not "held for review") — in
 * Debian's chromium on the gateway with in-process fakes of the connector, roster and bookings ports.
 */
describe('the dashboard keeps what admins typed and saved, in a browser', () => {
  let h: GatewayHarness;
  let page: Page;
  let url: string;
  let dashboard: SignedInDashboard | undefined;
  /** A second admin's tab, signed in with the same school's token. */
  let other: Page;

  beforeAll(async () => {
    dashboard = await startSignedInDashboard();
    ({ h, page, url } = dashboard);
    other = await dashboard.browser.context.newPage();
    await other.goto(`${url}/#token=${dashboard.token}`);
    await other.getByRole('heading', { name: 'Data Dashboard' }).waitFor();
  }, 120_000);

  afterAll(async () => dashboard?.close());

  async function openSettings(tab: Page): Promise<void> {
    await tab.goto(`${url}/#/settings`);
    await tab.getByLabel('Pause scheduled syncs').waitFor();
  }

  it('a settings page opened before another admin paused is told so and saves nothing; shown the saved settings, its change goes through and the pause stays', async () => {
    await openSettings(page);
    await openSettings(other);
    const loaded = (await h.connector.getSettings(SCHOOL_A)).version;

    await page.getByLabel('Pause scheduled syncs').check();
    await saveSettings(page);
    expect((await h.connector.getSettings(SCHOOL_A)).enabled).toBe(false);

    // The other page still shows the schedule running; its admin adds an address only.
    await other.getByLabel('Who is notified (e-mail addresses)').fill('office@school.org');
    // The page sent only its change, with the version it showed: the API refused it.
    expect(await saveRefusedAsStale(other)).toEqual({
      notificationEmails: ['office@school.org'],
      version: loaded,
    });
    expect(await h.connector.getSettings(SCHOOL_A)).toMatchObject({ enabled: false, notificationEmails: [] });
    expect(await accessibilityViolations(other, 'edits-01-stale-settings-refused')).toEqual([]);

    // Shown the saved settings (the pause included), the admin makes the change again.
    await showSavedSettings(other);
    await expect(other.getByLabel('Pause scheduled syncs').isChecked()).resolves.toBe(true);
    await other.getByLabel('Who is notified (e-mail addresses)').fill('office@school.org');
    await saveSettings(other);
    expect(await h.connector.getSettings(SCHOOL_A)).toMatchObject({
      enabled: false,
      notificationEmails: ['office@school.org'],
    });
    expect(await accessibilityViolations(other, 'edits-01-stale-settings-saved')).toEqual([]);
  }, 60_000);

  it('a thresholds form opened before another admin saved changes only the rows its admin changed', async () => {
    await openSettings(page);
    await openSettings(other);

    await page.getByLabel('Default: more than (%)').fill('20');
    await saveThresholds(page);

    await other.getByLabel('pupil: more than (%)').fill('50');
    await saveThresholds(other);

    // The first page, older than the pupil threshold, sets one for staff.
    await page.getByLabel('staff: more than (%)').fill('30');
    await page.getByLabel('staff: and more than (records)').fill('4');
    await saveThresholds(page);

    const stored = await h.upstream.roster.getRemovalThresholds(SCHOOL_A);
    expect(stored.default).toEqual({ percent: 20, min: 5 });
    expect(stored.byType).toEqual(
      expect.arrayContaining([
        { entityType: 'pupil', percent: 50, min: 5 },
        { entityType: 'staff', percent: 30, min: 4 },
      ]),
    );
    expect(stored.byType).toHaveLength(2);
    // Both pages show what is stored.
    await expect(page.getByLabel('pupil: more than (%)').inputValue()).resolves.toBe('50');
  }, 60_000);

  it('"Skip to content" moves to the page’s content without leaving the page or losing what was typed', async () => {
    await openSettings(page);
    await page.getByLabel('Who is notified (e-mail addresses)').fill('typed-not-saved@school.org');
    await page.getByRole('link', { name: 'Skip to content' }).focus();
    await page.keyboard.press('Enter');

    await expect(page.evaluate('document.activeElement?.id')).resolves.toBe('main');
    expect(new URL(page.url()).hash).toBe('#/settings');
    await expect(page.getByLabel('Who is notified (e-mail addresses)').inputValue()).resolves.toBe(
      'typed-not-saved@school.org',
    );
    await expect(page.locator('h1').textContent()).resolves.toBe('Settings › Data Input Source');
  }, 60_000);

  /**
   * The page's comment box takes at most the API's 1000 characters; 1001 set by a script (which
   * maxlength does not cut) are refused, and the error box names the field and why.
   */
  async function refuseLongComment(button: string, title: string): Promise<void> {
    const comment = page.getByLabel(/^Comment/);
    await comment.waitFor();
    await expect(comment.getAttribute('maxlength')).resolves.toBe('1000');
    await comment.evaluate((el, value) => void Object.assign(el, { value }), 'x'.repeat(1001));
    await page.getByRole('button', { name: button }).click();
    const refused = page.locator('.error-box', { hasText: title });
    await refused.waitFor();
    const text = await refused.textContent();
    expect(text).not.toContain('details.issues');
    expect(text).toMatch(/comment: .*1000/);
  }

  it('a decision comment is limited to what the API takes, and a refused one says which field and why', async () => {
    h.upstream.state.batch = { ...h.upstream.state.batch, status: 'pending' };
    await page.goto(`${url}/#/held/batch-1`);
    await refuseLongComment('Discard', 'The decision was not recorded');
    expect(h.upstream.state.batch.status).toBe('pending');
    expect(await accessibilityViolations(page, 'edits-02-long-comment-refused')).toEqual([]);

    await page.goto(`${url}/#/undo/run-9`);
    await refuseLongComment('Undo this sync', 'The sync was not undone');
    expect(h.upstream.state.undo.status).toBe('possible');
  }, 60_000);

  it('a dry run that would hold removals is shown as a dry run in the history, not as held, and is not the "Last sync"', async () => {
    h.connector.runs.set('school-a', [
      sampleRun({ syncRunId: 'run-dry', dryRun: true, status: 'held', heldBatchId: null }),
      sampleRun({ syncRunId: 'run-1' }),
    ]);
    await page.goto(`${url}/#/dashboard`);
    const history = page.getByRole('table', { name: 'Run history' });
    await history.waitFor();
    // The overview's last run is the last real sync (a dry run keeps nothing).
    await expect(page.locator('#last-sync').textContent()).resolves.toMatch(/^Finished · /);
    const statuses = await history.locator('tbody tr td:nth-child(3)').allTextContents();
    expect(statuses).toEqual(['Dry run — would be held for review', 'Finished']);
    await history.locator('tbody tr').first().getByRole('button', { name: 'Details' }).click();
    await expect(page.locator('#run-progress h3').first().textContent()).resolves.toBe(
      'Dry run — would be held for review',
    );
    expect(await accessibilityViolations(page, 'edits-03-dry-run-last-sync')).toEqual([]);
  }, 60_000);

  it.each(DECIDED)('a run whose held changes were $status shows as decided', (decided) =>
    showsDecidedRun(h, page, url, decided),
  );
});

/**
 * How a decided run shows: its held changes approved (and applied) or discarded by an admin, or
 * superseded (a later sync left nothing of its batch).
 */
const DECIDED = [
  {
    status: 'applied',
    text: 'Finished — held changes approved',
    link: 'See what was approved, and by whom',
  },
  {
    status: 'discarded',
    text: 'Finished — held changes discarded',
    link: 'See what was discarded, and by whom',
  },
  {
    status: 'superseded',
    text: 'Finished — held changes superseded by a later sync',
    link: 'See why nothing is left to decide',
  },
] as const;

/**
 * The run history, the "Last sync" and a run's details of a run whose held batch was decided — an
 * admin approved or discarded it, or a later sync left nothing of it to decide: decided, not "held
 * for review" (and an approved run says so, not just "Finished").
 */
async function showsDecidedRun(
  h: GatewayHarness,
  page: Page,
  url: string,
  decided: (typeof DECIDED)[number],
): Promise<void> {
  const { status, text, link } = decided;
  h.connector.runs.set('school-a', [
    sampleRun({ syncRunId: 'run-2', status, heldBatchId: 'batch-1' }),
    sampleRun({ syncRunId: 'run-1' }),
  ]);
  // The page is on the dashboard already (the test before): load it again with these runs.
  await page.goto(`${url}/#/dashboard`);
  await page.reload();
  const history = page.getByRole('table', { name: 'Run history' });
  await history.waitFor();
  await expect(page.locator('#last-sync').textContent()).resolves.toMatch(new RegExp(`^${text} · `));
  const statuses = await history.locator('tbody tr td:nth-child(3)').allTextContents();
  expect(statuses).toEqual([text, 'Finished']);
  await history.locator('tbody tr').first().getByRole('button', { name: 'Details' }).click();
  await expect(page.locator('#run-progress h3').first().textContent()).resolves.toBe(`Run — ${text}`);
  // The batch says what was decided: who approved or discarded it and when (also in the audit log),
  // or when a later sync left nothing of it to decide.
  await expect(page.getByRole('link', { name: link }).getAttribute('href')).resolves.toBe('#/held/batch-1');
  expect(await accessibilityViolations(page, `edits-04-${status}-run`)).toEqual([]);
}
