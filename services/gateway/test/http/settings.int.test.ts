import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { useGatewayHarness } from '../support/gateway-harness';
import { receivedFrom } from '../support/upstream-errors';

describe('data-source settings over HTTP (real FerretDB, fake connector)', () => {
  const gw = useGatewayHarness('school-s');

  const put = (payload: object) =>
    gw.h.request(gw.token, 'PUT', '/api/v1/schools/school-s/settings', payload);
  const get = () => gw.h.request(gw.token, 'GET', '/api/v1/schools/school-s/settings');

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
    // Found by the OpenAPI fuzzing: a local part over 64 characters is not an address (RFC 5321),
    // and the document's pattern says so.
    const longLocal = await put({ notificationEmails: [`${'a'.repeat(65)}@school.org`] });
    expect(longLocal.statusCode).toBe(400);
    expect((await get()).json()).toMatchObject({
      scheduleMinutes: 90,
      timeZone: 'Europe/Paris',
      notificationEmails: ['office@school.org'],
    });
  });

  it('shows and changes the removal thresholds per entity type; a partial change keeps the rest', async () => {
    const thresholds = (method: 'GET' | 'PUT', payload?: object) =>
      gw.h.request(gw.token, method, '/api/v1/schools/school-s/removal-thresholds', payload);
    const initial = (await thresholds('GET')).json();
    expect(initial).toMatchObject({ default: { percent: 10, min: 5 }, byType: [] });
    expect(initial.entityTypes).toContain('pupil');
    const set = await thresholds('PUT', {
      default: { percent: 15, min: 8 },
      byType: [{ entityType: 'pupil', percent: 5, min: 3 }],
    });
    expect(set.statusCode).toBe(200);
    const kept = await thresholds('PUT', { default: { percent: 20, min: 10 } });
    expect(kept.json()).toMatchObject({
      default: { percent: 20, min: 10 },
      byType: [{ entityType: 'pupil', percent: 5, min: 3 }],
    });
    expect((await thresholds('GET')).json()).toEqual(kept.json());

    for (const bad of [
      { default: { percent: 101, min: 1 } },
      { byType: [{ entityType: 'dragon', percent: 5, min: 1 }] },
      {
        byType: [
          { entityType: 'pupil', percent: 5, min: 1 },
          { entityType: 'pupil', percent: 6, min: 1 },
        ],
      },
    ]) {
      const refused = await thresholds('PUT', bad);
      expect(refused.statusCode, JSON.stringify(bad)).toBe(400);
    }
    expect((await thresholds('GET')).json()).toEqual(kept.json());
    const audit = await gw.h.request(gw.token, 'GET', '/api/v1/schools/school-s/audit-log');
    expect(audit.json().entries.map((e: { action: string }) => e.action)).toContain(
      'removal-thresholds.update',
    );
  });

  it('a save without a version overtaken by another is laid over the new settings again; one with a version is refused (409)', async () => {
    const overtaken = () =>
      receivedFrom(
        'connector',
        status.FAILED_PRECONDITION,
        'CONNECTOR_SETTINGS_CHANGED',
        'The settings were changed since they were loaded; reload the settings and make your change again.',
        { expectedVersion: 1, currentVersion: 2 },
      );
    const puts = () => gw.h.connector.calls.filter((c) => c.method === 'putSettings').length;
    const loaded = (await get()).json() as { version: number };

    gw.h.connector.failOn.set('putSettings', overtaken());
    const before = puts();
    const unversioned = await put({ scheduleMinutes: 180 });
    expect(unversioned.statusCode).toBe(200);
    expect(unversioned.json()).toMatchObject({ scheduleMinutes: 180, version: loaded.version + 1 });
    expect(puts() - before, 'sent again after the refusal').toBe(2);

    gw.h.connector.failOn.set('putSettings', overtaken());
    const versioned = await put({ scheduleMinutes: 240, version: loaded.version + 1 });
    expect(versioned.statusCode).toBe(409);
    expect(versioned.json().error.code).toBe('CONNECTOR_SETTINGS_CHANGED');
    expect(puts() - before, 'not sent again').toBe(3);
    expect((await get()).json()).toMatchObject({ scheduleMinutes: 180 });
  });
});
