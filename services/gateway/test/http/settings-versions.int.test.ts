import { randomBytes, randomUUID } from 'node:crypto';
import { startSystem } from '@isams-sync/testing';
import type { RunningSystem } from '@isams-sync/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Two admins (or one admin in two tabs) saving a school's data-source settings at once, through the
// real gateway and connector (processes) on FerretDB. Before session 54 the gateway read the stored
// settings, laid the admin's fields over them and sent the whole back to PutSettings, which replaced
// everything: of two saves at once the later put back what the earlier changed (admin A's pause
// undone by admin B's schedule change), and a page loaded before another admin's save could not say
// so. A save now names the version it was loaded at (`version`), and the connector stores it only
// over that version. Sequential saves only: on FerretDB 1.24 the connector's conditional replace is
// checked before its write (libs/mongo README › compareAndSet), so two saves sent in the same
// instant are told apart on MongoDB only.

let system: RunningSystem;
let token = '';
const schoolId = `versions-${randomBytes(4).toString('hex')}`;
const apiKey = randomUUID().toUpperCase();

beforeAll(async () => {
  system = await startSystem();
  await system.simulator.createSchool(schoolId, { seed: 5, size: 'small', apiKey, cacheMode: 'bypass' });
  token = await system.issueToken(schoolId, 'two admins');
}, 180_000);
afterAll(() => system?.stop(), 60_000);

/** The parts of a settings answer (or its error) the tests read. */
interface Answer {
  version?: number;
  enabled?: boolean;
  scheduleMinutes?: number;
  notificationEmails?: string[];
  error?: { code: string; message: string };
}

async function call(method: string, body?: object): Promise<{ status: number; json: Answer }> {
  const res = await fetch(`${system.gatewayUrl}/api/v1/schools/${schoolId}/settings`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Answer };
}

describe('gateway: settings saved by two admins at once', () => {
  it('a save from a page loaded before another admin saved is refused with 409 CONNECTOR_SETTINGS_CHANGED, and the other save stays', async () => {
    const first = await call('PUT', { isamsUrl: system.simulator.url, apiKey, version: 0 });
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ configured: true, enabled: true, version: 1 });
    const pageA = (await call('GET')).json;
    const pageB = (await call('GET')).json;
    const paused = await call('PUT', { enabled: false, version: pageA.version });
    expect(paused.status).toBe(200);
    expect(paused.json).toMatchObject({ enabled: false, version: 2 });
    // Admin B's page still shows the school running, and B changes the schedule.
    const refused = await call('PUT', { scheduleMinutes: 120, enabled: true, version: pageB.version });
    expect(refused.status).toBe(409);
    expect(refused.json.error?.code).toBe('CONNECTOR_SETTINGS_CHANGED');
    expect(refused.json.error?.message).toContain('reload the settings');
    expect((await call('GET')).json).toMatchObject({ enabled: false, scheduleMinutes: 60, version: 2 });
    // A first save from a page that showed no settings, once there are some: refused too.
    const late = await call('PUT', { isamsUrl: system.simulator.url, apiKey, version: 0 });
    expect(late.status).toBe(409);
    expect(late.json.error?.code).toBe('CONNECTOR_SETTINGS_CHANGED');
  });

  it("a save without a version is laid over the settings as stored: another admin's earlier change stays", async () => {
    expect((await call('PUT', { isamsUrl: system.simulator.url, apiKey })).status).toBe(200);
    expect((await call('PUT', { enabled: false })).status).toBe(200);
    const emails = (await call('PUT', { notificationEmails: ['office@school.example'] })).json;
    expect(emails).toMatchObject({ enabled: false, notificationEmails: ['office@school.example'] });
    const minutes = await call('PUT', { scheduleMinutes: 120 });
    expect(minutes.json).toMatchObject({
      enabled: false,
      scheduleMinutes: 120,
      notificationEmails: ['office@school.example'],
      version: (emails.version ?? 0) + 1,
    });
  });
});
