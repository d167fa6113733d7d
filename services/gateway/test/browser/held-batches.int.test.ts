import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessibilityViolations, screenshot } from '../support/browser';
import { startSignedInDashboard } from '../support/dashboard-harness';
import type { SignedInDashboard } from '../support/dashboard-harness';
import type { GatewayHarness } from '../support/gateway-harness';

/**
 * The held-batch page and the dry-run review in Debian's chromium, on the gateway with in-process
 * fakes of the connector, roster and bookings ports (the whole system walks the same flow in
 * tools/e2e/held-batches.int.test.ts).
 */
describe('held removals that stay decidable, and the dry-run review, in a browser', () => {
  let h: GatewayHarness;
  let page: Page;
  let url: string;
  let dashboard: SignedInDashboard | undefined;

  beforeAll(async () => {
    dashboard = await startSignedInDashboard();
    ({ h, page, url } = dashboard);
  }, 120_000);

  afterAll(async () => dashboard?.close());

  it('shows the one pending batch with its age, the reason per person and the impact; a stale approve is refused and the current one approved', async () => {
    h.upstream.state.batch = {
      ...h.upstream.state.batch,
      status: 'pending',
      version: 2,
      createdAt: new Date(Date.now() - 3 * 3_600_000).toISOString(),
      updatedAt: new Date(Date.now() - 3_600_000).toISOString(),
      lastSyncRunId: 'run-10',
    };
    await page.goto(`${url}/#/dashboard`);
    const review = page.getByRole('link', { name: 'Review held removals' });
    await review.waitFor();
    await expect(page.locator('#held-h + ul').textContent()).resolves.toContain(
      '3 removals waiting for a decision since',
    );
    await review.click();
    await page.getByRole('heading', { name: /Held removals/ }).waitFor();
    await expect(page.locator('#batch-age').textContent()).resolves.toMatch(
      /^Waiting for a decision since .+ \(3 hours\)\. Later syncs kept it up to date \(last on .+, version 2\)/,
    );
    const records = page.getByRole('table', { name: 'Held records' });
    await records.waitFor();
    await expect(records.locator('th').allTextContents()).resolves.toEqual([
      'Type',
      'Change',
      'Who',
      'Id',
      'Why held',
    ]);
    await expect(records.locator('tbody tr').first().locator('td').last().textContent()).resolves.toBe(
      'more removals than the safety threshold allows',
    );
    await page.locator('#impact-summary').waitFor();
    expect(await accessibilityViolations(page, 'held-01-pending-batch')).toEqual([]);

    // A later sync changes the batch while the admin reads it: approving the old view is refused.
    h.upstream.state.batch = { ...h.upstream.state.batch, version: 3, total: 4 };
    await page.getByLabel(/^Comment/).fill('Leavers confirmed');
    await page.getByRole('button', { name: 'Approve removals' }).click();
    await page.getByText('A later sync changed this batch: nothing was decided').waitFor();
    expect(h.upstream.state.batch.status).toBe('pending');
    expect(await accessibilityViolations(page, 'held-02-changed-since-shown')).toEqual([]);

    await page.getByRole('button', { name: 'Show the current batch' }).click();
    await page.getByRole('heading', { name: 'Held removals (4)' }).waitFor();
    await page.getByRole('button', { name: 'Approve removals' }).click();
    await page.locator('#decision-outcome').waitFor();
    const approved = h.upstream.calls.filter((c) => c.method === 'approveHeldBatch').at(-1);
    expect(approved?.input).toMatchObject({ batchId: 'batch-1', version: 3 });
    expect(h.upstream.state.batch.status).toBe('approved');
  }, 120_000);

  it('shows a discarded decision: when, and that it holds until their data changes', async () => {
    h.upstream.state.batch = {
      ...h.upstream.state.batch,
      status: 'discarded',
      decidedBy: 'token:office',
      decidedAt: '2026-11-02T09:30:00.000Z',
    };
    await page.goto(`${url}/#/dashboard`);
    const last = page.locator('#last-discard');
    await last.waitFor();
    await expect(last.textContent()).resolves.toContain('stay unapplied until the people’s data changes');
    await page.getByRole('link', { name: 'See what was discarded' }).click();
    const decided = page.locator('#batch-decided');
    await decided.waitFor();
    await expect(decided.textContent()).resolves.toMatch(
      /^Discarded by token:office on .+: nothing was applied, and these people are held as they are until their data changes in iSAMS\.$/,
    );
    await expect(page.getByRole('button', { name: 'Approve removals' }).count()).resolves.toBe(0);
    expect(await accessibilityViolations(page, 'held-03-discarded')).toEqual([]);
  }, 60_000);

  it('a dry run lists who is added, removed, held and kept, and counts only the bookings a real run cancels', async () => {
    h.upstream.state.dryRun = true;
    try {
      const list = await startDryRun(page, url);
      const rows = await list
        .locator('tbody tr')
        .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
      expect(rows.map((r) => [r[2], r[3]])).toEqual([
        ['p7', 'Removed'],
        ['p8', 'Held for review'],
        ['p9', 'Kept'],
        ['p10', 'Added'],
      ]);
      expect(rows[2]![4]).toContain('held until their data changes');
      await expect(page.locator('#dry-run-impact').textContent()).resolves.toBe(
        'A real run would cancel 2 bookings for 1 families (1 people removed now; held removals cancel nothing until approved).',
      );
      expect(h.upstream.state.previewed.at(-1)).toEqual([{ kind: 'pupil', id: 'p7' }]);
      expect(await accessibilityViolations(page, 'held-04-dry-run-review')).toEqual([]);
      await screenshot(page, 'held-04-dry-run-review-full');
    } finally {
      h.upstream.state.dryRun = false;
    }
  }, 60_000);

  it('a dry run’s long change list is shown page by page to its end', async () => {
    h.upstream.state.dryRun = true;
    // 4 changes + 400 additions: three pages of 200.
    h.upstream.state.moreAdded = 400;
    try {
      const list = await startDryRun(page, url);
      await expectEveryPage(page, list, h);
      expect(await accessibilityViolations(page, 'held-05-dry-run-pages')).toEqual([]);
    } finally {
      h.upstream.state.dryRun = false;
      h.upstream.state.moreAdded = 0;
    }
  }, 60_000);
});

/** The change list of 404 changes, shown 200 at a time: "Show more changes" to its end. */
async function expectEveryPage(page: Page, list: Locator, h: GatewayHarness): Promise<void> {
  const shown = page.locator('#dry-run-shown');
  const ids = () =>
    list.locator('tbody tr td:nth-child(3)').evaluateAll((tds) => tds.map((td) => td.textContent));
  await expect(shown.textContent()).resolves.toBe('Showing 200 of 404 changes; the counts above cover all.');
  const more = page.getByRole('button', { name: 'Show more changes' });
  // The roster unreachable for the next page: said so, nothing lost, the button there to try again.
  h.upstream.state.failChangesPage = '200';
  await more.click();
  await page.getByText('The next changes could not be loaded').waitFor();
  await expect(list.locator('tbody tr').count()).resolves.toBe(200);
  await more.click();
  await list.locator('tbody tr').nth(399).waitFor();
  await expect(page.getByText('The next changes could not be loaded').count()).resolves.toBe(0);
  await more.click();
  await list.locator('tbody tr').nth(403).waitFor();
  await expect(shown.textContent()).resolves.toBe('All 404 changes shown.');
  await expect(more.isHidden()).resolves.toBe(true);
  // Every change once, in the roster's order, and each page asked with the token of the one before.
  const all = await ids();
  expect(all.slice(0, 5)).toEqual(['p7', 'p8', 'p9', 'p10', 'n1']);
  expect(all.at(-1)).toBe('n400');
  expect(new Set(all).size).toBe(404);
  const asked = h.upstream.calls
    .filter((c) => c.method === 'listRunChanges')
    .slice(-4)
    .map((c) => (c.input as { pageToken?: string }).pageToken);
  expect(asked).toEqual([undefined, '200', '200', '400']);
}

/** Starts a dry run from the dashboard and waits for its change list. */
async function startDryRun(page: Page, url: string): Promise<Locator> {
  await page.goto(`${url}/#/dashboard`);
  await page.getByRole('heading', { name: 'Run history' }).waitFor();
  await page.getByLabel('Dry run').check();
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  const list = page.getByRole('table', { name: 'Change list' });
  await list.waitFor({ timeout: 30_000 });
  return list;
}
