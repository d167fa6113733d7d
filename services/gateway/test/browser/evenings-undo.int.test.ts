import type { RunningSystem } from '@isams-sync/testing';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { accessibilityViolations, runEndStatus, runWhileLive, screenshot } from '../support/browser';
import { useWholeSystemInBrowser, type BrowserBookingsClient } from '../support/browser-system';

const LEAVERS = 2;

/**
 * Live evenings and undoing a sync walked as an admin would, in Debian's chromium against the whole running system
 * (simulator, connector, roster, bookings, gateway on the real Kafka and FerretDB).
 */
const w = useWholeSystemInBrowser({
  schoolPrefix: 'ev',
  seed: 44,
  system: { holdPercent: 10, holdMin: 5 },
});
const { schoolId, apiKey, api, bookings } = w;
let system: RunningSystem;
let page: Page;
let bookingsClient: BrowserBookingsClient;
beforeAll(() => {
  ({ system, page, bookingsClient } = w);
});
let laterEventId = '';

describe('Evenings and Undo pages in a browser against the whole running system', () => {
  it('a run during an evening open today keeps its bookings; the Evenings page shows them, who and why', async () => {
    // Settings (startSystem runs the connector without its scheduler: only the Run button starts runs here) and a first sync.
    await api('PUT', '/settings', {
      isamsUrl: system.simulator.url,
      apiKey,
      format: 'xml',
      scheduleMinutes: 60,
      enabled: true,
      timeZone: 'Europe/London',
    });
    const first = await api<{ run: { syncRunId: string } }>('POST', '/sync-runs', { dryRun: false });
    for (;;) {
      const run = await api<{ terminal: boolean; status: string }>(
        'GET',
        `/sync-runs/${first.run.syncRunId}`,
      );
      if (run.terminal) {
        expect(run.status).toBe('applied');
        break;
      }
      await new Promise((r) => setTimeout(r, 500));
    }

    // Tonight's evening (open, on right now) with three appointments.
    const pupils = (await api<{ entities: Array<{ entityId: string }> }>('GET', '/roster/pupil?pageSize=50'))
      .entities;
    const staff = (await api<{ entities: Array<{ entityId: string }> }>('GET', '/roster/staff?pageSize=5'))
      .entities[0]!;
    const contacts = (
      await api<{ entities: Array<{ entityId: string; data: { pupils?: Array<{ pupilId: string }> } }> }>(
        'GET',
        '/roster/contact?pageSize=200',
      )
    ).entities;
    const contactOf = (pupilId: string) =>
      contacts.find((c) => (c.data.pupils ?? []).some((l) => String(l.pupilId) === pupilId))?.entityId;
    const booked = pupils.filter((p) => contactOf(p.entityId)).slice(0, 3);
    const startsAt = new Date(Date.now() - 10 * 60_000);
    const bookingOf = (p: { entityId: string }) => ({
      pupilId: p.entityId,
      contactId: contactOf(p.entityId),
    });
    const event = await w.bookEvening(
      { title: 'Year 11 Parents Evening', startsAt, endsAt: new Date(startsAt.getTime() + 30 * 60_000) },
      staff.entityId,
      booked.map(bookingOf),
    );

    // Next week's evening: the same two have appointments there too (a run would cancel those).
    const nextWeek = new Date(Date.now() + 7 * 86_400_000);
    nextWeek.setUTCHours(16, 0, 0, 0);
    const later = await w.bookEvening(
      {
        title: 'Year 11 Options Evening',
        startsAt: nextWeek,
        endsAt: new Date(nextWeek.getTime() + 3_600_000),
      },
      staff.entityId,
      booked.slice(0, LEAVERS).map(bookingOf),
    );
    laterEventId = later.eventId;

    // Two of them leave (under the threshold: their removal applies).
    const leavers = booked.slice(0, LEAVERS).map((p) => p.entityId);
    for (const p of leavers) await system.simulator.admin('DELETE', `/admin/schools/${schoolId}/pupils/${p}`);

    await page.goto(system.gatewayUrl);
    await page.getByLabel('Admin token').fill(w.token);
    await page.getByLabel('Admin token').press('Enter');
    // The evening is open, not marked live: it is today, so the dashboard warns all the same.
    const dialog = await runWhileLive(page);
    await expect(dialog.textContent()).resolves.toContain('Year 11 Parents Evening');
    expect(await accessibilityViolations(page, 'ev-01-run-during-live-evening')).toEqual([]);
    await dialog.getByRole('button', { name: 'Run anyway' }).click();
    expect(await runEndStatus(page)).toBe('applied');

    // Nothing was cancelled: the leavers' bookings are kept, pending.
    const list = await bookings(bookingsClient.listBookings, { eventId: event.eventId });
    expect(list.bookings.filter((b) => b.status === 'cancelled')).toEqual([]);
    expect(list.bookings.filter((b) => b.pendingCancellation)).toHaveLength(LEAVERS);

    // The dashboard points at them; the Evenings page lists them with who and which sync.
    await page.reload();
    const note = page.locator('#held-cancellations');
    await note.waitFor({ timeout: 30_000 });
    await expect(note.textContent()).resolves.toContain(
      `${LEAVERS} booking cancellations are held in live evenings`,
    );
    expect(await accessibilityViolations(page, 'ev-02-dashboard-held-cancellations')).toEqual([]);

    await note.getByRole('link', { name: 'See live evenings' }).click();
    await page.getByRole('heading', { name: 'Live evenings' }).waitFor();
    await expect(page.locator('#evenings-intro').textContent()).resolves.toContain('Europe/London');
    await expect(page.locator('#evenings-summary').textContent()).resolves.toContain(
      `${LEAVERS} cancellations are held in 1 evening`,
    );
    const rows = page
      .getByRole('table', { name: 'Held cancellations of Year 11 Parents Evening' })
      .locator('tbody tr');
    await expect(rows.count()).resolves.toBe(LEAVERS);
    const text = await page.getByRole('table').textContent();
    for (const p of leavers) expect(text).toContain(`pupil ${p} removed`);
    await expect(page.getByText('Live now').count()).resolves.toBe(1);
    expect(await accessibilityViolations(page, 'ev-03-evenings-held-cancellations')).toEqual([]);
    await screenshot(page, 'ev-03-evenings');
  }, 600_000);

  it('undo the run: the booking impact first, then the report', async () => {
    // Next week's appointments of the two leavers were cancelled by the run.
    const cancelled = await bookings(bookingsClient.listBookings, { eventId: laterEventId });
    expect(cancelled.bookings.map((b) => b.status)).toEqual(Array(LEAVERS).fill('cancelled'));

    await page.goto(`${system.gatewayUrl}/#/dashboard`);
    await page.getByRole('heading', { name: 'Run history' }).waitFor();
    await page.getByRole('button', { name: 'Details' }).first().click();
    await page.getByRole('link', { name: 'Undo this sync' }).click();
    await page.getByRole('heading', { name: 'Undo a sync' }).waitFor();
    const impact = page.locator('#undo-bookings');
    await impact.waitFor();
    await expect(impact.textContent()).resolves.toContain(
      `${LEAVERS} bookings the sync cancelled can be reinstated`,
    );
    await expect(page.locator('#undo-restore').textContent()).resolves.toContain(`${LEAVERS} pupils`);
    expect(await accessibilityViolations(page, 'ev-04-undo-impact')).toEqual([]);

    await page.getByLabel(/^Comment/).fill('The office confirms both are still with us');
    await page.getByRole('button', { name: 'Undo this sync' }).click();
    const report = page.locator('#undo-report');
    await report.waitFor({ timeout: 60_000 });
    await page
      .locator('#undo-report', { hasText: `${LEAVERS} bookings reinstated.` })
      .waitFor({ timeout: 120_000 });
    expect(await accessibilityViolations(page, 'ev-05-undo-report')).toEqual([]);
    const after = await bookings(bookingsClient.listBookings, { eventId: laterEventId });
    expect(after.bookings.map((b) => b.status)).toEqual(Array(LEAVERS).fill('booked'));
  }, 300_000);
});
