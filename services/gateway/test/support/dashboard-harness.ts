import type { Page } from 'playwright-core';
import type { CallContext } from '../../src/domain/principal';
import { launchBrowser } from './browser';
import { startGatewayHarness } from './gateway-harness';
import type { GatewayHarness } from './gateway-harness';

/** A listening gateway on the in-process fakes, and chromium signed in to its dashboard as `school-a`'s admin. */
export interface SignedInDashboard {
  h: GatewayHarness;
  browser: Awaited<ReturnType<typeof launchBrowser>>;
  page: Page;
  /** The gateway's address. */
  url: string;
  /** The admin token the page signed in with. */
  token: string;
  close(): Promise<void>;
}

/** Starts the gateway, saves `school-a`'s data source (so the dashboard opens), signs in in chromium. */
export async function startSignedInDashboard(): Promise<SignedInDashboard> {
  const h = await startGatewayHarness();
  await h.app.start();
  const url = `http://127.0.0.1:${h.app.httpPort}`;
  const { token } = await h.issueToken('school-a');
  await h.connector.putSettings(
    { tenantId: 'school-a', actor: 'test' } as CallContext,
    {
      isamsUrl: 'https://isams.example.org',
      apiKey: 'ABCDEF',
      format: 'xml',
      scheduleMinutes: 60,
      enabled: true,
    } as never,
  );
  const browser = await launchBrowser();
  const { page } = browser;
  await page.goto(url);
  await page.getByLabel('Admin token').fill(token);
  await page.getByLabel('Admin token').press('Enter');
  await page.getByRole('heading', { name: 'Data Dashboard' }).waitFor();
  return {
    h,
    browser,
    page,
    url,
    token,
    async close() {
      await browser.close();
      await h.close();
    },
  };
}
