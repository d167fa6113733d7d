import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium } from 'playwright-core';
import { expect } from 'vitest';
import type { BrowserContext, Locator, Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = resolve(import.meta.dirname, '../../../../test-results/gateway');

/** Debian's chromium driven by playwright-core; fails (never skips) when it is not installed. */
export async function launchBrowser(): Promise<{
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `chromium not found at ${CHROMIUM_PATH}. Install it with: bash tools/browser/install-chromium.sh (or set CHROMIUM_PATH).`,
    );
  }
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const userDataDir = mkdtempSync(join(tmpdir(), 'gw-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    viewport: { width: 1366, height: 768 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Saves a full-page screenshot as a test artefact. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/**
 * Runs axe-core (WCAG 2.0/2.1 A and AA rules) on the page as it is now and returns the
 * violations, one readable line each (rule, impact, the first offending selectors), so a test
 * can `expect(await accessibilityViolations(page)).toEqual([])` and see what is wrong.
 * Also saves a screenshot named after the page for the test-results artefacts.
 */
export async function accessibilityViolations(page: Page, name: string): Promise<string[]> {
  await screenshot(page, name);
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  return results.violations.map(
    (violation) =>
      `${violation.id} (${violation.impact ?? 'unknown'}): ${violation.help} — ${violation.nodes
        .slice(0, 3)
        .map((node) => node.target.join(' '))
        .join(', ')}`,
  );
}

/** Every visible form field of the page's main has a <label for> (the accessible name tests use). */
export async function expectEveryFieldLabelled(page: Page): Promise<void> {
  const fields = page.locator('main input:visible, main select:visible, main textarea:visible');
  const count = await fields.count();
  expect(count).toBeGreaterThan(0);
  for (let i = 0; i < count; i++) {
    const id = await fields.nth(i).getAttribute('id');
    expect(id, `field ${i} has an id`).toBeTruthy();
    await expect(page.locator(`label[for="${id}"]`).count()).resolves.toBeGreaterThan(0);
  }
}

const RUN_ENDED = ['applied', 'unchanged', 'held', 'failed', 'cancelled']
  .map((status) => `#run-progress [data-status="${status}"]`)
  .join(', ');

/** Waits until the dashboard's run progress shows a terminal status, and returns that status. */
export async function runEndStatus(page: Page, timeoutMs = 240_000): Promise<string> {
  await page.locator(RUN_ENDED).first().waitFor({ timeout: timeoutMs });
  return (await page.locator(RUN_ENDED).first().getAttribute('data-status')) ?? '';
}

/**
 * Presses Run on the dashboard while an event is live and returns the dialog that warns of it,
 * still open: the caller looks at it, then presses "Run anyway".
 */
export async function runWhileLive(page: Page): Promise<Locator> {
  await page.getByRole('heading', { name: 'Run history' }).waitFor();
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'An event is live' });
  await dialog.waitFor();
  return dialog;
}
