import { MongoClient } from 'mongodb';
import type { GrpcCallError } from '@isams-sync/grpc';
import { getTestInfra } from '@isams-sync/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { SettingsRepository } from '../../src/adapters/mongo/settings-repository';
import { grpcErrorOf, useConnectorSuite } from '../support/connector-harness';

// Two admins (or two tabs) saving a school's settings from the same loaded version, through the
// connector's gRPC on the real database. Before session 54 PutSettings replaced the settings whole
// with no version: admin A's pause, saved first, was put back by admin B's save of the address
// (B's form still held `enabled: true`), and nobody was told. The saves here are sequential: on
// FerretDB 1.24 a conditional replace's filter is checked before its write (libs/mongo README ›
// compareAndSet), so two saves sent in the same instant are told apart on MongoDB only.

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

  it('settings stored before versions count as version 1: a save from 1 goes through, a second from 1 is refused', async () => {
    const mongo = new MongoClient(getTestInfra().mongoUrl);
    await mongo.connect();
    try {
      const tenant = 'school-legacy';
      await suite.client.putSettings(
        { isamsUrl: suite.sim.url, apiKey: KEY, enabled: true },
        suite.client.md(tenant),
      );
      const settings = mongo.db(suite.env.mongoDb).collection<{ _id: string }>('data_source_settings');
      await settings.updateOne({ _id: tenant }, { $unset: { version: '' } });
      const legacy = await load(tenant);
      expect(legacy.version).toBe(1);
      const saved = await suite.client.putSettings(
        { ...legacy.form, scheduleMinutes: 120, expectedVersion: legacy.version },
        suite.client.md(tenant),
      );
      expect(saved).toMatchObject({ scheduleMinutes: 120, version: 2 });
      const err = await grpcErrorOf(
        suite.client.putSettings(
          { ...legacy.form, enabled: false, expectedVersion: legacy.version },
          suite.client.md(tenant),
        ),
      );
      expect(err.errorCode).toBe('CONNECTOR_SETTINGS_CHANGED');
      expect(await suite.client.getSettings({}, suite.client.md(tenant))).toMatchObject({
        scheduleMinutes: 120,
        enabled: true,
        version: 2,
      });
    } finally {
      await mongo.close();
    }
  });

  it("a key re-encrypted (KEK rotation) keeps the settings' version: a page loaded before it still saves", async () => {
    const mongo = new MongoClient(getTestInfra().mongoUrl);
    await mongo.connect();
    try {
      const tenant = 'school-rotated';
      await suite.client.putSettings(
        { isamsUrl: suite.sim.url, apiKey: KEY, enabled: true },
        suite.client.md(tenant),
      );
      const page = await load(tenant);
      const repo = new SettingsRepository(mongo.db(suite.env.mongoDb));
      const stored = (await repo.get(tenant))!;
      const rotated = { ...stored.key, iv: 'AAAAAAAAAAAAAAAA', kekId: 'k-next' };
      expect(await repo.replaceKey(tenant, { isamsUrl: stored.isamsUrl, key: stored.key }, rotated)).toBe(
        true,
      );
      expect(await repo.get(tenant)).toMatchObject({ version: 1, key: { kekId: 'k-next' } });
      // Saved without a key (same host): the re-encrypted key is kept.
      const saved = await suite.client.putSettings(
        { ...page.form, enabled: false, expectedVersion: page.version },
        suite.client.md(tenant),
      );
      expect(saved).toMatchObject({ enabled: false, version: 2 });
      expect(await repo.get(tenant)).toMatchObject({ version: 2, key: { kekId: 'k-next' } });
    } finally {
      await mongo.close();
    }
  });
});
