import { MongoClient } from 'mongodb';
import type { GrpcCallError } from '@isams-sync/grpc';
import { getTestInfra } from '@isams-sync/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { grpcErrorOf, useConnectorSuite } from '../support/connector-harness';

// Two admins (or two tabs) saving a school's settings from the same loaded version, through the
// connector's gRPC on the real database. Before session 54 PutSettings replaced the settings whole
// with no version: admin A's pause, saved first, was put back by admin B's save of the address
// (B's form still held `enabled: true`), and nobody was told.

const KEY = '{11111111-2222-3333-4444-555566667777}';
const suite = useConnectorSuite();
beforeAll(() => suite.sim.createSchool('sim-v', { seed: 13, size: 'small', apiKey: KEY }));

/** What a dashboard page holds after loading the settings (the whole form, as the gateway merges it). */
async function load(tenant: string) {
  const s = await suite.client.getSettings({}, suite.client.md(tenant));
  return {
    version: s.version,
    form: {
      isamsUrl: s.isamsUrl,
      format: s.format,
      scheduleMinutes: s.scheduleMinutes,
      enabled: s.enabled,
      timeZone: s.timeZone,
      notificationEmails: s.notificationEmails,
    },
  };
}

describe('connector settings: a save names the version it was made from', () => {
  it('a second save from the same loaded version is refused with CONNECTOR_SETTINGS_CHANGED and changes nothing', async () => {
    const tenant = 'school-two-admins';
    await suite.client.putSettings(
      { isamsUrl: suite.sim.url, apiKey: KEY, enabled: true },
      suite.client.md(tenant),
    );
    const a = await load(tenant);
    const b = await load(tenant);
    // Admin A pauses the school.
    await suite.client.putSettings(
      { ...a.form, enabled: false, expectedVersion: a.version },
      suite.client.md(tenant, 'admin:a'),
    );
    // Admin B, from the page loaded before A's save, changes the address's path.
    const bSaved = suite.client.putSettings(
      { ...b.form, isamsUrl: `${suite.sim.url}/other`, expectedVersion: b.version },
      suite.client.md(tenant, 'admin:b'),
    );
    const err = await bSaved.then(
      () => undefined,
      (e: unknown) => e as GrpcCallError,
    );
    const now = await suite.client.getSettings({}, suite.client.md(tenant));
    expect(now.enabled, "admin A's pause is still stored").toBe(false);
    expect(now).toMatchObject({ isamsUrl: suite.sim.url, version: 2, updatedBy: 'admin:a' });
    expect(err?.errorCode).toBe('CONNECTOR_SETTINGS_CHANGED');
    expect(err?.grpcMessage).toContain('reload');
    expect(err?.details).toMatchObject({ expectedVersion: 1, currentVersion: 2 });
    // Reloaded, B's save goes through and keeps A's pause.
    const reloaded = await load(tenant);
    const saved = await suite.client.putSettings(
      { ...reloaded.form, isamsUrl: `${suite.sim.url}/other`, expectedVersion: reloaded.version },
      suite.client.md(tenant, 'admin:b'),
    );
    expect(saved).toMatchObject({ enabled: false, isamsUrl: `${suite.sim.url}/other`, version: 3 });
  });

  it('of many saves sent at once from the same version exactly one is stored; the others are refused', async () => {
    const tenant = 'school-many-tabs';
    await suite.client.putSettings(
      { isamsUrl: suite.sim.url, apiKey: KEY, enabled: true },
      suite.client.md(tenant),
    );
    const { version, form } = await load(tenant);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        suite.client.putSettings(
          { ...form, notificationEmails: [`tab-${i}@school.example`], expectedVersion: version },
          suite.client.md(tenant, `admin:${i}`),
        ),
      ),
    );
    const won = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : []));
    expect(won, 'saves that were stored').toHaveLength(1);
    for (const o of outcomes)
      if (o.status === 'rejected')
        expect((o.reason as { errorCode?: string }).errorCode).toBe('CONNECTOR_SETTINGS_CHANGED');
    const now = await suite.client.getSettings({}, suite.client.md(tenant));
    expect(now).toMatchObject({
      version: version + 1,
      notificationEmails: [`tab-${won[0]}@school.example`],
      updatedBy: `admin:${won[0]}`,
    });
  });

  it('a first save from a page that showed no settings is refused once another admin has saved them', async () => {
    const tenant = 'school-first-save';
    const empty = await load(tenant);
    expect(empty.version).toBe(0);
    await suite.client.putSettings(
      { isamsUrl: suite.sim.url, apiKey: KEY, enabled: false, expectedVersion: -1 },
      suite.client.md(tenant, 'admin:a'),
    );
    const err = await grpcErrorOf(
      suite.client.putSettings(
        { isamsUrl: suite.sim.url, apiKey: KEY, enabled: true, expectedVersion: -1 },
        suite.client.md(tenant, 'admin:b'),
      ),
    );
    expect(err.errorCode).toBe('CONNECTOR_SETTINGS_CHANGED');
    expect(await suite.client.getSettings({}, suite.client.md(tenant))).toMatchObject({
      enabled: false,
      version: 1,
    });
  });

  it('a save without a version is not checked (callers that do not track versions keep working)', async () => {
    const tenant = 'school-unversioned';
    await suite.client.putSettings(
      { isamsUrl: suite.sim.url, apiKey: KEY, enabled: true },
      suite.client.md(tenant),
    );
    const second = await suite.client.putSettings(
      { isamsUrl: suite.sim.url, enabled: false },
      suite.client.md(tenant),
    );
    expect(second).toMatchObject({ enabled: false, version: 2 });
  });

  it('settings stored before versions count as version 1, and a save left half-done (claimed, not written) is finished by the next save', async () => {
    const mongo = new MongoClient(getTestInfra().mongoUrl);
    await mongo.connect();
    try {
      const tenant = 'school-legacy';
      await suite.client.putSettings(
        { isamsUrl: suite.sim.url, apiKey: KEY, enabled: true },
        suite.client.md(tenant),
      );
      const db = mongo.db(suite.env.mongoDb);
      const settings = db.collection<{ _id: string }>('data_source_settings');
      await settings.updateOne({ _id: tenant }, { $unset: { version: '' } });
      const legacy = await load(tenant);
      expect(legacy.version).toBe(1);
      // A save that claimed version 2 and stopped before writing the settings (a crash).
      const stored = await settings.findOne({ _id: tenant });
      await db.collection<{ _id: string }>('settings_versions').insertOne({
        _id: `${tenant}#2`,
        tenantId: tenant,
        version: 2,
        claimedAt: new Date(),
        settings: { ...stored, enabled: false, version: 2, updatedBy: 'admin:crashed' },
      } as never);
      const err = await grpcErrorOf(
        suite.client.putSettings(
          { ...legacy.form, scheduleMinutes: 120, expectedVersion: legacy.version },
          suite.client.md(tenant),
        ),
      );
      expect(err.errorCode).toBe('CONNECTOR_SETTINGS_CHANGED');
      expect(await suite.client.getSettings({}, suite.client.md(tenant))).toMatchObject({
        version: 2,
        enabled: false,
        updatedBy: 'admin:crashed',
      });
      // The finished claim no longer holds the settings (nor the encrypted key).
      const claim = await db.collection<{ _id: string }>('settings_versions').findOne({ _id: `${tenant}#2` });
      expect(claim).not.toHaveProperty('settings');
    } finally {
      await mongo.close();
    }
  });
});
