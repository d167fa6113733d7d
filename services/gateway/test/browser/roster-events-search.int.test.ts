import type { Locator, Page, Route } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BookableEvent } from '../../src/domain/models/bookings.models';
import { accessibilityViolations } from '../support/browser';
import { startSignedInDashboard } from '../support/dashboard-harness';
import type { SignedInDashboard } from '../support/dashboard-harness';
import type { GatewayHarness } from '../support/gateway-harness';

/**
 * The Roster page's "Events and bookings" table (every event, every booking counted) and the
 * searches of the Roster and held-batch pages (only the answer to the latest text is shown), in
 * Debian's chromium on the gateway with in-process fakes of the roster and bookings ports.
 */
describe('roster events and dashboard searches, in a browser', () => {
  let h: GatewayHarness;
  let page: Page;
  let url: string;
  let dashboard: SignedInDashboard | undefined;

  beforeAll(async () => {
    dashboard = await startSignedInDashboard();
    ({ h, page, url } = dashboard);
  }, 120_000);

  afterEach(async () => {
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    h.upstream.state.events = undefined;
    h.upstream.state.bookingCounts = {};
    h.upstream.state.bookingsWithoutTotals = false;
  });

  afterAll(async () => dashboard?.close());

  /** The Events table's rows (Event, Status, Booked, Cancelled), after "Show more events" to its end. */
  async function everyEventRow(): Promise<string[][]> {
    await page.goto(`${url}/#/roster`);
    const events = page.getByRole('table', { name: 'Events' });
    await events.waitFor();
    const more = page.getByRole('button', { name: 'Show more events' });
    for (let i = 0; i < 10 && (await more.isVisible()); i++) {
      const before = await events.locator('tbody tr').count();
      await more.click();
      await events.locator('tbody tr').nth(before).waitFor();
    }
    return rows(events);
  }

  it('counts every booking of an event with more than 200 (booked and cancelled) and lists every event', async () => {
    sixtyEvents(h);
    const all = await everyEventRow();
    expect(all[0]).toEqual(['Event 01', 'open', '530', '120']);
    expect(all[1]).toEqual(['Event 02', 'open', '201', '3']);
    expect(all[2]).toEqual(['Event 03', 'open', '0', '0']);
    expect(all).toHaveLength(60);
    expect(all.at(-1)).toEqual(['Event 60', 'open', '7', '250']);
    await expect(page.locator('#events-shown').textContent()).resolves.toBe('All 60 events shown.');
    expect(await accessibilityViolations(page, 'roster-01-events-counts')).toEqual([]);
  }, 60_000);

  it('counts bookings page by page when the bookings service gives no total', async () => {
    sixtyEvents(h);
    h.upstream.state.bookingsWithoutTotals = true;
    const all = await everyEventRow();
    expect(all[0]).toEqual(['Event 01', 'open', '530', '120']);
    expect(all.at(-1)).toEqual(['Event 60', 'open', '7', '250']);
    expect(all).toHaveLength(60);
  }, 60_000);

  it('the Roster search shows the answer to the latest text, not a slower earlier one', async () => {
    const people = [
      { entityId: 'st1', forename: 'Amy', surname: 'Smith' },
      { entityId: 'st2', forename: 'Sam', surname: 'Stone' },
      { entityId: 'st3', forename: 'Ben', surname: 'Ross' },
    ];
    const slow = lateFirstAnswer(page, '**/api/v1/schools/school-a/roster/staff?*', async (route, q) => {
      const hits = people.filter((p) => `${p.forename} ${p.surname}`.toLowerCase().includes(q));
      await route.fulfill({
        json: {
          entities: hits.map((p) => ({
            entityType: 'staff',
            entityId: p.entityId,
            status: 'active',
            data: { forename: p.forename, surname: p.surname },
            lastSyncRunId: 'run-1',
            changedAt: null,
            removedAt: null,
            graceUntil: null,
            removalReason: null,
          })),
          page: { nextPageToken: null, totalSize: hits.length },
        },
      });
    });
    await page.goto(`${url}/#/roster`);
    const table = page.getByRole('table', { name: 'Roster' });
    await table.waitFor();
    await typeThenRetype(page, page.locator('#roster-q'), slow);
    await expect(names(table)).resolves.toEqual(['Amy Smith']);
    await expect(page.getByText('1 in total').count()).resolves.toBe(1);
  }, 60_000);

  it('the held-batch search shows the answer to the latest text, not a slower earlier one', async () => {
    const people = [
      { entityId: 'p1', forename: 'Amy', surname: 'Smith' },
      { entityId: 'p2', forename: 'Sam', surname: 'Stone' },
    ];
    const slow = lateFirstAnswer(
      page,
      '**/api/v1/schools/school-a/held-batches/batch-1?*',
      async (route, q) => {
        const response = await route.fetch();
        const body = (await response.json()) as { records: Array<Record<string, unknown>> };
        const template = body.records[0]!;
        const hits = people.filter((p) => `${p.forename} ${p.surname}`.toLowerCase().includes(q));
        body.records = hits.map((p) => ({
          ...template,
          entityId: p.entityId,
          before: { id: p.entityId, forename: p.forename, surname: p.surname },
        }));
        await route.fulfill({
          response,
          json: { ...body, page: { nextPageToken: null, totalSize: hits.length } },
        });
      },
    );
    h.upstream.state.batch = { ...h.upstream.state.batch, status: 'pending' };
    await page.goto(`${url}/#/held/batch-1`);
    const table = page.getByRole('table', { name: 'Held records' });
    await table.waitFor();
    await typeThenRetype(page, page.getByLabel('Search held records'), slow);
    await expect(
      table.locator('tbody tr td:nth-child(3)').evaluateAll((tds) => tds.map((td) => td.textContent)),
    ).resolves.toEqual(['Amy Smith']);
  }, 60_000);
});

/** 60 open events (more than the 50 of a first page): Event 01 has 650 bookings, 120 cancelled. */
function sixtyEvents(h: GatewayHarness): void {
  h.upstream.state.events = Array.from({ length: 60 }, (_, i): BookableEvent => ({
    id: `ev${i + 1}`,
    kind: 'parents_evening',
    title: `Event ${String(i + 1).padStart(2, '0')}`,
    startsAt: null,
    endsAt: null,
    status: 'open',
  }));
  h.upstream.state.bookingCounts = {
    ev1: { booked: 530, cancelled: 120 },
    ev2: { booked: 201, cancelled: 3 },
    ev60: { booked: 7, cancelled: 250 },
  };
}

/** The cells' text of every body row of a table. */
function rows(table: Locator): Promise<string[][]> {
  return table
    .locator('tbody tr')
    .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
}

/** The first column of a table's body rows. */
async function names(table: Locator): Promise<string[]> {
  return (await rows(table)).map((r) => r[0]!);
}

/**
 * Routes the searches (`q` in the URL) of `pattern` to `answer`, the one for "s" 1.5 s late; other
 * requests go to the gateway. Resolves `answered` once the late answer has been given (or refused,
 * when the page aborted that request).
 */
function lateFirstAnswer(
  page: Page,
  pattern: string,
  answer: (route: Route, q: string) => Promise<void>,
): { asked: Promise<void>; answered: Promise<void> } {
  let asked!: () => void;
  let answered!: () => void;
  const result = {
    asked: new Promise<void>((resolve) => (asked = resolve)),
    answered: new Promise<void>((resolve) => (answered = resolve)),
  };
  void page.route(pattern, async (route) => {
    const q = new URL(route.request().url()).searchParams.get('q');
    if (q === null) return route.continue();
    if (q !== 's') return answer(route, q);
    asked();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    try {
      await answer(route, q);
    } catch {
      // The page aborted the request: there is nothing to answer.
    } finally {
      answered();
    }
  });
  return result;
}

/**
 * Types "s", waits until that search is asked, then types "smith" (answered at once), and waits
 * until the late answer for "s" has come (and some time to show it).
 */
async function typeThenRetype(
  page: Page,
  search: Locator,
  slow: { asked: Promise<void>; answered: Promise<void> },
): Promise<void> {
  await search.fill('s');
  await slow.asked;
  await search.fill('smith');
  await slow.answered;
  await page.waitForTimeout(500);
}
