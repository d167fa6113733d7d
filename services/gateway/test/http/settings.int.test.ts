import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayHarness } from '../support/gateway-harness';
import type { GatewayHarness } from '../support/gateway-harness';

describe('data-source settings over HTTP (real FerretDB, fake connector)', () => {
  let h: GatewayHarness;
  let token: string;
  beforeAll(async () => {
    h = await startGatewayHarness();
    token = (await h.issueToken('school-s')).token;
  });
  afterAll(async () => h?.close());

  const put = (payload: object) =>
    h.app.http.inject({
      method: 'PUT',
      url: '/api/v1/schools/school-s/settings',
      headers: { authorization: `Bearer ${token}` },
      payload,
    });
  const get = () =>
    h.app.http.inject({
      method: 'GET',
      url: '/api/v1/schools/school-s/settings',
      headers: { authorization: `Bearer ${token}` },
    });

  it('a save that does not name the schedule or pause keeps them (no forced enabled: true / 60 minutes)', async () => {
    const first = await put({
      isamsUrl: 'https://school.isams.cloud',
      apiKey: '{11111111-2222-3333-4444-555566667777}',
      scheduleMinutes: 120,
      enabled: false,
    });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ scheduleMinutes: 120, enabled: false });

    // What the Getting Started wizard sends: address, format (and sometimes a new key) only.
    const again = await put({ isamsUrl: 'https://school.isams.cloud', format: 'xml' });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ scheduleMinutes: 120, enabled: false, keyLast4: '7777' });
    expect((await get()).json()).toMatchObject({ scheduleMinutes: 120, enabled: false });
  });

  it('saves the time zone and who is notified; a bad address is refused with a clear message and changes nothing', async () => {
    const saved = await put({ timeZone: 'Europe/Paris', notificationEmails: ['office@school.org'] });
    expect(saved.statusCode).toBe(200);
    expect(saved.json()).toMatchObject({
      timeZone: 'Europe/Paris',
      notificationEmails: ['office@school.org'],
    });
    // Only the schedule: the time zone and the contacts stay.
    expect((await put({ scheduleMinutes: 90 })).json()).toMatchObject({
      scheduleMinutes: 90,
      timeZone: 'Europe/Paris',
      notificationEmails: ['office@school.org'],
    });

    const bad = await put({ notificationEmails: ['office@school.org', 'bursar at school'] });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('GATEWAY_VALIDATION_FAILED');
    expect(JSON.stringify(bad.json().error.details)).toContain('must be an e-mail address');
    expect(JSON.stringify(bad.json().error.details)).toContain('notificationEmails');
    const tooMany = await put({
      notificationEmails: Array.from({ length: 11 }, (_, i) => `admin${i}@school.org`),
    });
    expect(tooMany.statusCode).toBe(400);
    expect((await get()).json()).toMatchObject({
      scheduleMinutes: 90,
      timeZone: 'Europe/Paris',
      notificationEmails: ['office@school.org'],
    });
  });
});
