import type { RunningSystem } from '@isams-sync/testing';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  accessibilityViolations,
  expectEveryFieldLabelled,
  runEndStatus,
  runWhileLive,
  screenshot,
} from '../support/browser';
import { useWholeSystemInBrowser, type BrowserBookingsClient } from '../support/browser-system';

const REMOVED_PUPILS = 8;

/**
 * The whole system as processes (simulator, connector, roster, bookings, gateway) on the real
 * Kafka and FerretDB, driven through the Data Dashboard in Debian's chromium. One system, browser
 * and school for the whole file: the describes below are one walk, in order, each starting where
 * the previous one left the school (settings saved and synced, then leavers held and approved with
 * an event live, then another school's document).
 */
const w = useWholeSystemInBrowser({
  schoolPrefix: 'e2e',
  seed: 42,
  system: { holdPercent: 2, holdMin: 3 },
});
const { schoolId, apiKey, bookings } = w;
let system: RunningSystem;
let page: Page;
let token: string;
let bookingsClient: BrowserBookingsClient;
beforeAll(() => {
  ({ system, page, token, bookingsClient } = w);
});
let bookingIds: string[] = [];
const requests: string[] = [];
const api = <T>(path: string) => w.api<T>('GET', path);

/** The dashboard afresh, then Run while an event is live: the warning dialog, still open. */
async function runFromDashboardWhileLive() {
  await page.goto(`${system.gatewayUrl}/#/dashboard`);
  await page.reload();
  return runWhileLive(page);
}

async function waitForRunEnd(expected: string): Promise<void> {
  let status: string;
  try {
    status = await runEndStatus(page);
  } catch (err) {
    await screenshot(page, 'run-did-not-end');
    const runs = await api<{ runs: unknown[] }>('/sync-runs?pageSize=2').catch((e: unknown) => String(e));
    throw new Error(`run did not end: ${JSON.stringify(runs).slice(0, 3000)}\n${system.logs()}`, {
      cause: err,
    });
  }
  if (status !== expected) await screenshot(page, `unexpected-${status}`);
  expect(status).toBe(expected);
}

describe('Data Dashboard in a browser: Getting Started and the first sync', () => {
  it('completes the Getting Started wizard, runs the first sync and shows the counts', async () => {
    page.on('request', (r) => requests.push(new URL(r.url()).pathname));
    await page.goto(system.gatewayUrl);
    // Keyboard only: type the token and press Enter.
    await page.getByLabel('Admin token').fill(token);
    await page.getByLabel('Admin token').press('Enter');
    await page.getByRole('heading', { name: 'Getting Started' }).waitFor();
    await expectEveryFieldLabelled(page);

    await page.getByLabel('iSAMS web address').fill(system.simulator.url);
    await page.getByLabel('Batch API key').fill(apiKey);

    // First with a key that lacks a dataset: the page says exactly what to tick in iSAMS.
    await system.simulator.admin('DELETE', `/admin/schools/${schoolId}/key/datasets/teachingSetLists`);
    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.getByRole('heading', { name: 'Connection needs attention' }).waitFor({ timeout: 120_000 });
    await expect(page.getByText('13 of 14 datasets are returned by this key.').isVisible()).resolves.toBe(
      true,
    );
    const missing = page.locator('.warning-box', { hasText: 'Tick these in iSAMS' });
    await expect(missing.locator('li').allTextContents()).resolves.toEqual([
      'Teaching Manager – Teaching Set Lists',
    ]);
    await screenshot(page, '00-wizard-missing-dataset');

    await system.simulator.admin('POST', `/admin/schools/${schoolId}/key/datasets/teachingSetLists`);
    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.getByRole('heading', { name: 'Connection works' }).waitFor({ timeout: 120_000 });
    await expect(page.getByText('14 of 14 datasets are returned by this key.').isVisible()).resolves.toBe(
      true,
    );
    expect(await accessibilityViolations(page, '01-wizard-tested')).toEqual([]);

    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText(/Settings saved \(key …/).waitFor();
    await page.getByRole('button', { name: 'Run first sync' }).click();
    await page.getByRole('heading', { name: 'Data Dashboard' }).waitFor();
    await waitForRunEnd('applied');
    await page.getByRole('heading', { name: /^Changes/ }).waitFor({ timeout: 60_000 });
    const pupilRow = page.locator('#run-progress .counts tr', { hasText: /^pupil/ });
    await expect(pupilRow.first().locator('td').nth(1).textContent()).resolves.toBe('300');
    // The freshness card refreshes once the run has ended.
    await page.locator('#data-as-of', { hasNotText: '—' }).waitFor({ timeout: 30_000 });
    await expectEveryFieldLabelled(page);
    // Progress came over the Server-Sent Events stream (the connector's WatchSyncRun), not polling.
    const streamed = requests.filter((u) => /\/sync-runs\/[^/]+\/events$/.test(u));
    const polled = requests.filter((u) => /\/sync-runs\/[0-9a-f-]{36}$/.test(u));
    expect(streamed.length).toBeGreaterThan(0);
    expect(polled).toEqual([]);
    expect(await accessibilityViolations(page, '02-first-sync-finished')).toEqual([]);
  }, 300_000);
});

describe('Data Dashboard in a browser: removals held with their bookings, kept from another school', () => {
  it('holds a removal of pupils with bookings, shows the impact, and approving cancels the bookings', async () => {
    // Book the pupils that will leave into an open parents' evening.
    const pupils = (
      await api<{ entities: Array<{ entityId: string }> }>('/roster/pupil?pageSize=50')
    ).entities.slice(0, REMOVED_PUPILS);
    const staff = (await api<{ entities: Array<{ entityId: string }> }>('/roster/staff?pageSize=5'))
      .entities[0]!;
    const contacts = (
      await api<{ entities: Array<{ entityId: string; data: { pupils?: Array<{ pupilId: string }> } }> }>(
        '/roster/contact?pageSize=200',
      )
    ).entities;
    const day = new Date(Date.now() + 7 * 86_400_000);
    day.setUTCHours(16, 0, 0, 0);
    const contactOf = (pupilId: string) =>
      contacts.find((c) => (c.data.pupils ?? []).some((l) => String(l.pupilId) === pupilId))?.entityId;
    const event = await w.bookEvening(
      { title: 'Year 9 Parents Evening', startsAt: day, endsAt: new Date(day.getTime() + 3 * 3_600_000) },
      staff.entityId,
      pupils.map((p) => ({ pupilId: p.entityId, contactId: contactOf(p.entityId) })),
    );
    bookingIds = event.bookingIds;

    // The simulator's school loses those pupils (leavers): more than the threshold → held.
    for (const pupil of pupils)
      await system.simulator.admin('DELETE', `/admin/schools/${schoolId}/pupils/${pupil.entityId}`);

    // Another event is live right now: the dashboard warns before running.
    const fair = await bookings(bookingsClient.createEvent, {
      kind: 'club',
      title: 'Clubs Fair',
      startsAt: new Date(Date.now() - 3_600_000).toISOString(),
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
      status: 'open',
    });
    await bookings(bookingsClient.updateEvent, { eventId: fair.id, status: 'live' });

    const dialog = await runFromDashboardWhileLive();
    await expect(dialog.textContent()).resolves.toContain(
      'bookings of teachers or students this sync removes are kept and listed under Evenings',
    );
    await expect(dialog.textContent()).resolves.toContain('Clubs Fair');
    await screenshot(page, '03a-live-event-warning');
    await dialog.getByRole('button', { name: 'Run anyway' }).click();
    await waitForRunEnd('held');
    await page.getByRole('link', { name: 'Review held removals' }).first().waitFor({ timeout: 30_000 });
    await screenshot(page, '03-run-held');

    await page.getByRole('link', { name: 'Review held removals' }).first().click();
    await page.getByRole('heading', { name: /Held removals/ }).waitFor();
    const summary = page.locator('#impact-summary');
    await summary.waitFor({ timeout: 60_000 });
    await expect(summary.textContent()).resolves.toContain(`Approving cancels ${REMOVED_PUPILS} bookings`);
    await expect(summary.textContent()).resolves.toContain('Year 9 Parents Evening');
    expect(await accessibilityViolations(page, '04-held-batch-impact')).toEqual([]);

    await page.getByLabel(/^Comment/).fill('Leavers confirmed by the office');
    await page.getByRole('button', { name: 'Approve removals' }).click();
    await page.locator('#decision-outcome').waitFor();

    // The bookings service cancels them once the roster publishes the approved removals.
    await page.goto(`${system.gatewayUrl}/#/roster`);
    await page.getByRole('heading', { name: 'Events and bookings' }).waitFor();
    for (let i = 0; ; i++) {
      const row = page.locator('tr', { hasText: 'Year 9 Parents Evening' });
      const cancelled = await row.locator('td').nth(3).textContent();
      if (cancelled === String(REMOVED_PUPILS)) break;
      if (i > 120) throw new Error(`bookings not cancelled; row shows ${await row.textContent()}`);
      await page.waitForTimeout(1000);
      await page.reload();
      await page.getByRole('heading', { name: 'Events and bookings' }).waitFor();
    }
    await screenshot(page, '05-bookings-cancelled');
    const listed = await bookings(bookingsClient.listBookings, {
      eventId: event.eventId,
      page: { pageSize: 100 },
    });
    expect(listed.bookings.filter((b) => bookingIds.includes(b.id)).map((b) => b.status)).toEqual(
      Array(REMOVED_PUPILS).fill('cancelled'),
    );
  }, 420_000);
  it("keeps another school out of this school's runs and batches on the real services", async () => {
    const otherSchool = `${schoolId}-other`;
    const otherToken = await system.issueToken(otherSchool);
    const runs = await api<{ runs: Array<{ syncRunId: string; heldBatchId: string | null }> }>(
      '/sync-runs?pageSize=10',
    );
    const runId = runs.runs[0]!.syncRunId;
    const batchId = runs.runs.find((r) => r.heldBatchId !== null)?.heldBatchId;
    expect(batchId).toBeTruthy();
    const as = (method: string, path: string) =>
      fetch(`${system.gatewayUrl}/api/v1/schools/${path}`, {
        method,
        headers: { authorization: `Bearer ${otherToken}`, 'content-type': 'application/json' },
        ...(method === 'POST' ? { body: '{}' } : {}),
      });
    for (const [method, path] of [
      ['GET', `${otherSchool}/sync-runs/${runId}`],
      ['GET', `${otherSchool}/held-batches/${batchId}`],
      ['POST', `${otherSchool}/held-batches/${batchId}/discard`],
      ['GET', `${schoolId}/sync-runs/${runId}`],
      ['GET', `${schoolId}/settings`],
    ] as const) {
      const res = await as(method, path);
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    const own = await as('GET', `${otherSchool}/sync-runs`);
    expect(((await own.json()) as { runs: unknown[] }).runs).toEqual([]);
    const batch = await api<{ batch: { status: string } }>(`/held-batches/${batchId}`);
    expect(batch.batch.status).toBe('approved');
  }, 60_000);
});

describe("Data Dashboard in a browser: another school's document held whole, then a run fetched in method groups", () => {
  it("holds a whole sync of another school's document, says why, and discarding applies nothing", async () => {
    const before = await api<{ page: { totalSize: number | null } }>('/roster/pupil?pageSize=1');
    // The key now leads to another school's iSAMS: the same ids, other people.
    await system.simulator.admin('POST', `/admin/schools/${schoolId}/replace`, { seed: 43, size: 'small' });
    const dialog = await runFromDashboardWhileLive();
    await dialog.getByRole('button', { name: 'Run anyway' }).click();
    await waitForRunEnd('held');
    const review = page.getByRole('link', { name: 'Review the held sync' });
    await review.waitFor({ timeout: 30_000 });
    await expect(page.locator('#held-h + ul').textContent()).resolves.toContain(
      'This document looks like a different school',
    );
    await screenshot(page, '06-whole-sync-held');

    await review.click();
    // A whole run's batch holds every change of the sync (~3,000 here): its page reads them all.
    await page.getByRole('heading', { name: /^Sync held — nothing applied/ }).waitFor({ timeout: 120_000 });
    await expect(page.locator('#hold-reason').textContent()).resolves.toMatch(
      /This document looks like a different school: \d+ of \d+ known pupils now have a different name and date of birth/,
    );
    await page.getByRole('heading', { name: 'What approving would change' }).waitFor();
    await expect(page.getByRole('button', { name: 'Approve the whole sync' }).isVisible()).resolves.toBe(
      true,
    );
    await page.getByRole('table', { name: 'Held records' }).waitFor({ timeout: 120_000 });
    await expect(
      page.getByRole('table', { name: 'Held records' }).locator('th').allTextContents(),
    ).resolves.toEqual(['Type', 'Change', 'Who', 'Id', 'Why held']);
    await screenshot(page, '07-whole-sync-held-detail');
    await page.getByLabel(/^Comment/).fill('Wrong key: this is not our school');
    await page.getByRole('button', { name: 'Discard' }).click();
    await expect(page.locator('#decision-outcome').textContent()).resolves.toBe(
      'Discarded: nothing of this sync was applied, and the same document will not be held again.',
    );
    const after = await api<{ page: { totalSize: number | null } }>('/roster/pupil?pageSize=1');
    expect(after.page.totalSize).toBe(before.page.totalSize);
  }, 300_000);

  it('says when and why a run was fetched in method groups (deadlocks on the whole document)', async () => {
    // Every whole-key attempt (ISAMS_RETRY_ATTEMPTS, 3 by default) is a deadlock victim; the groups are not.
    await system.simulator.fault(schoolId, 'deadlock', 3);
    const dialog = await runFromDashboardWhileLive();
    await dialog.getByRole('button', { name: 'Run anyway' }).click();
    // Still the other school's document, which the previous scenario discarded: the discard holds,
    // so nothing of it is held again or applied (the run ends applied, with nothing applied).
    await waitForRunEnd('applied');
    const groups = page.locator('#run-progress #run-method-groups');
    await groups.waitFor({ timeout: 30_000 });
    const text = await groups.textContent();
    expect(text).toMatch(/^Fetched in 3 method groups \(3 of 3 done\)/);
    expect(text).toMatch(/deadlock/i);
    expect(text).not.toMatch(/took too long/);
    await screenshot(page, '08-fetched-in-method-groups');
    const settings = await api<{ fetchPlan: { mode: string; switchedBecause: string | null } }>('/settings');
    expect(settings.fetchPlan).toMatchObject({ mode: 'groups', switchedBecause: 'ISAMS_SERVER_BUSY' });
  }, 300_000);
});
