import { randomBytes } from 'node:crypto';
import { createLogger } from '@isams-sync/logger';
import { describe, expect, it } from 'vitest';
import { createKeyCipher } from '../../src/adapters/crypto/key-cipher';
import { KeyVault } from '../../src/use-cases/key-vault';
import type { KeyCipher } from '../../src/use-cases/ports';
import { SettingsService } from '../../src/use-cases/settings-service';
import type { PutSettingsInput } from '../../src/use-cases/settings-service';
import { TestConnectionSlots } from '../../src/use-cases/test-connection-slots';
import {
  InMemoryExclusiveLeases,
  InMemoryFetchPlans,
  InMemorySettingsAudit,
  InMemorySchedules,
  InMemorySettingsRecords,
  ScriptedProbe,
  schoolSchedule,
} from '../support/in-memory/settings-ports';

// The settings service's rules on in-memory stores, the real cipher and a scripted iSAMS probe: what
// a save validates, keeps and audits, which key a connection test may use, and the test caps. The
// MongoDB stores, the real iSAMS client and the gRPC surface: test/int/settings*.int.test.ts,
// key-binding.int.test.ts, test-connection-limits.int.test.ts.

const logger = createLogger({ service: 'settings-service-test', level: 'silent' });
const T = 'school-a';
const KEY = '{11111111-2222-3333-4444-555566667777}';
const OTHER_KEY = '{aaaaaaaa-bbbb-cccc-dddd-eeeeeeee9999}';
const URL_A = 'https://school-a.isams.cloud';
const JITTER_MS = 60_000;

const kek = () => randomBytes(32).toString('base64');

function setup(opts: { maxTests?: number; cipher?: KeyCipher; settings?: InMemorySettingsRecords } = {}) {
  const cipher = opts.cipher ?? createKeyCipher({ id: 'k1', key: kek() });
  const settings = opts.settings ?? new InMemorySettingsRecords();
  const keys = new KeyVault(settings, cipher, logger);
  const audit = new InMemorySettingsAudit();
  const fetchPlans = new InMemoryFetchPlans();
  const probe = new ScriptedProbe();
  const leases = new InMemoryExclusiveLeases();
  const testSlots = new TestConnectionSlots(leases, opts.maxTests ?? 4);
  const schedules = new InMemorySchedules();
  const service = new SettingsService(
    { settings, schedules, keys, fetchPlans, probe, logger, audit, testSlots },
    {
      allowInsecureLoopback: false,
      scheduleJitterMs: JITTER_MS,
      egressIps: ['203.0.113.7'],
      egress: { allowPrivateAddresses: false, hostSuffixes: [], allowedPorts: [443] },
    },
  );
  return { service, settings, schedules, keys, cipher, audit, fetchPlans, probe, leases, testSlots };
}

const input = (over: Partial<PutSettingsInput> = {}): PutSettingsInput => ({
  isamsUrl: URL_A,
  format: 'xml',
  scheduleMinutes: 60,
  enabled: true,
  ...over,
});

describe('settings service: saving', () => {
  it('a first save needs the key; it is sealed to the school and host, the schedule starts within the jitter', async () => {
    const w = setup();
    await expect(w.service.put(T, input())).rejects.toMatchObject({ code: 'CONNECTOR_KEY_REQUIRED' });
    expect(w.settings.docs.size).toBe(0);
    const before = Date.now();
    const saved = await w.service.put(T, input({ apiKey: KEY }), { actor: 'token:admin', requestId: 'r1' });
    expect(saved).toMatchObject({
      tenantId: T,
      isamsUrl: URL_A,
      keyLast4: '7777',
      timeZone: 'Europe/London',
      notificationEmails: [],
      updatedBy: 'token:admin',
    });
    // The next run time is the school's schedule's, apart from the settings.
    expect(w.settings.docs.get(T)).not.toHaveProperty('nextRunAt');
    expect(w.schedules.docs.get(T)).toEqual(schoolSchedule(T, saved.nextRunAt));
    expect(JSON.stringify(saved)).not.toContain('5555-6666');
    expect(await w.keys.reveal(saved)).toBe(KEY);
    expect(saved.nextRunAt!.getTime()).toBeGreaterThanOrEqual(before);
    expect(saved.nextRunAt!.getTime()).toBeLessThanOrEqual(Date.now() + JITTER_MS);
    expect(await w.service.get(T)).toEqual(saved);
    // A first address is not an address change.
    expect(w.audit.entries).toEqual([]);
  });

  it('a save without a key keeps the stored key, schedule, time zone and contacts', async () => {
    const w = setup();
    const first = await w.service.put(
      T,
      input({ apiKey: KEY, timeZone: 'Europe/Paris', notificationEmails: ['office@school.example'] }),
    );
    const again = await w.service.put(T, input({ format: 'json' }));
    expect(again).toMatchObject({
      format: 'json',
      key: first.key,
      keyUpdatedAt: first.keyUpdatedAt,
      nextRunAt: first.nextRunAt,
      timeZone: 'Europe/Paris',
      notificationEmails: ['office@school.example'],
    });
    // Another interval starts the schedule again; pausing clears it; resuming starts it again.
    await w.schedules.setNext(T, new Date('2030-01-01T00:00:00Z'));
    expect((await w.service.put(T, input({ scheduleMinutes: 120 }))).nextRunAt).not.toEqual(
      new Date('2030-01-01T00:00:00Z'),
    );
    expect((await w.service.put(T, input({ enabled: false }))).nextRunAt).toBeNull();
    expect((await w.service.put(T, input())).nextRunAt).not.toBeNull();
    // A new key replaces the old one.
    const rekeyed = await w.service.put(T, input({ apiKey: OTHER_KEY }));
    expect(await w.keys.reveal(rekeyed)).toBe(OTHER_KEY);
    expect(rekeyed.keyLast4).toBe('9999');
  });

  it('refuses invalid input and addresses the egress policy refuses, saving nothing', async () => {
    const w = setup();
    for (const bad of [
      input({ apiKey: KEY, isamsUrl: 'http://school-a.isams.cloud' }),
      input({ apiKey: KEY, isamsUrl: 'https://203.0.113.9' }),
      input({ apiKey: KEY, isamsUrl: 'https://school-a.isams.cloud:8443' }),
      input({ apiKey: KEY, format: 'csv' }),
      input({ apiKey: KEY, scheduleMinutes: 1.5 }),
      input({ apiKey: 'short' }),
      input({ apiKey: 'with a space' }),
      input({ apiKey: KEY, timeZone: 'Mars/Olympus' }),
      input({ apiKey: KEY, notificationEmails: ['not an address'] }),
    ]) {
      const outcome = await w.service.put(T, bad).then(
        () => 'saved',
        (err: { code?: string }) => err.code,
      );
      expect.soft(outcome, JSON.stringify(bad)).toMatch(/^(CONNECTOR|ISAMS)_/);
    }
    expect(w.settings.puts).toBe(0);
  });

  it('another host needs the key entered again: nothing saved, nothing audited', async () => {
    const w = setup();
    await w.service.put(T, input({ apiKey: KEY }));
    await expect(w.service.put(T, input({ isamsUrl: 'https://evil.example.com' }))).rejects.toMatchObject({
      code: 'CONNECTOR_KEY_REQUIRED_FOR_NEW_ADDRESS',
    });
    expect(w.settings.docs.get(T)!.isamsUrl).toBe(URL_A);
    expect(w.settings.puts).toBe(1);
    expect(w.audit.entries).toEqual([]);
  });

  it('every address change is audited (pending before the save, saved after it); the key binds to the new host', async () => {
    const w = setup();
    await w.service.put(T, input({ apiKey: KEY }));
    const moved = await w.service.put(T, input({ isamsUrl: 'https://school-b.isams.cloud', apiKey: KEY }), {
      actor: 'jwt:alice',
      requestId: 'req-1',
    });
    expect(await w.keys.reveal(moved)).toBe(KEY);
    await w.service.put(T, input({ isamsUrl: 'https://school-b.isams.cloud/api' }), { actor: 'jwt:bob' });
    // Saving the same address again is no change.
    await w.service.put(T, input({ isamsUrl: 'https://school-b.isams.cloud/api' }));
    expect(w.audit.entries).toMatchObject([
      {
        tenantId: T,
        actor: 'jwt:alice',
        requestId: 'req-1',
        previousOrigin: URL_A,
        newOrigin: 'https://school-b.isams.cloud',
        previousUrl: URL_A,
        newUrl: 'https://school-b.isams.cloud',
        keyEntered: true,
        outcome: 'saved',
      },
      {
        actor: 'jwt:bob',
        requestId: '',
        previousOrigin: 'https://school-b.isams.cloud',
        newOrigin: 'https://school-b.isams.cloud',
        newUrl: 'https://school-b.isams.cloud/api',
        keyEntered: false,
        outcome: 'saved',
      },
    ]);
    expect(JSON.stringify(w.audit.entries)).not.toContain('5555-6666');
  });

  it('a save that fails settles its audit record as failed; an audit that cannot be written saves nothing', async () => {
    const w = setup();
    await w.service.put(T, input({ apiKey: KEY }));
    w.settings.failNextPut = new Error('database unavailable');
    await expect(w.service.put(T, input({ isamsUrl: `${URL_A}/v2` }))).rejects.toThrow(
      'database unavailable',
    );
    expect(w.audit.entries.map((e) => e.outcome)).toEqual(['failed']);
    expect(w.settings.docs.get(T)!.isamsUrl).toBe(URL_A);

    w.audit.failBegin = true;
    await expect(w.service.put(T, input({ isamsUrl: `${URL_A}/v3` }))).rejects.toThrow('audit unavailable');
    expect(w.settings.docs.get(T)!.isamsUrl).toBe(URL_A);

    // Saved, but the record could not be settled: it stays pending, the save stands.
    w.audit.failBegin = false;
    w.audit.failSettle = true;
    await w.service.put(T, input({ isamsUrl: `${URL_A}/v4` }));
    expect(w.settings.docs.get(T)!.isamsUrl).toBe(`${URL_A}/v4`);
    expect(w.audit.entries.map((e) => e.outcome)).toEqual(['failed', 'pending']);
  });
});

describe('settings service: the schedule beside the settings', () => {
  it('a save cut off between its two writes never leaves sync on without a next run time', async () => {
    const w = setup();
    await w.service.put(T, input({ apiKey: KEY, enabled: false }));
    expect(w.schedules.docs.get(T)).toBeUndefined();
    // Turning sync on: the time is written first, so a failed settings write leaves a time beside
    // settings that are still off (the scheduler moves such a time on without a run).
    w.settings.failNextPut = new Error('database unavailable');
    await expect(w.service.put(T, input())).rejects.toThrow('database unavailable');
    expect(w.settings.docs.get(T)!.enabled).toBe(false);
    expect(w.schedules.docs.get(T)!.nextRunAt).toBeInstanceOf(Date);
    const on = await w.service.put(T, input());
    expect(w.schedules.docs.get(T)!.nextRunAt).toEqual(on.nextRunAt);
    // Turning it off: the settings first, so a failed write leaves sync on with its time kept.
    w.settings.failNextPut = new Error('database unavailable');
    await expect(w.service.put(T, input({ enabled: false }))).rejects.toThrow('database unavailable');
    expect(w.settings.docs.get(T)!.enabled).toBe(true);
    expect(w.schedules.docs.get(T)!.nextRunAt).toEqual(on.nextRunAt);
    await w.service.put(T, input({ enabled: false }));
    expect(w.schedules.docs.get(T)!.nextRunAt).toBeNull();
    expect((await w.service.get(T))!.nextRunAt).toBeNull();
  });

  it('turning sync off stands when the schedule cannot be cleared after it (the time is left, not shown)', async () => {
    const w = setup();
    const on = await w.service.put(T, input({ apiKey: KEY }));
    w.schedules.failNextSet = new Error('database unavailable');
    const off = await w.service.put(T, input({ enabled: false, isamsUrl: `${URL_A}/v2` }));
    expect(off.nextRunAt).toBeNull();
    expect(w.settings.docs.get(T)).toMatchObject({ enabled: false, isamsUrl: `${URL_A}/v2` });
    expect(w.audit.entries.map((e) => e.outcome)).toEqual(['saved']);
    expect(w.schedules.docs.get(T)!.nextRunAt).toEqual(on.nextRunAt);
    expect((await w.service.get(T))!.nextRunAt).toBeNull();
  });

  it('a failure streak outlives a save; a time left beside settings that are off is not shown', async () => {
    const w = setup();
    await w.service.put(T, input({ apiKey: KEY }));
    await w.schedules.setNext(T, new Date('2030-01-01T00:00:00Z'), 2);
    await w.service.put(T, input({ format: 'json' }));
    expect(w.schedules.docs.get(T)).toEqual(schoolSchedule(T, new Date('2030-01-01T00:00:00Z'), 2));
    await w.settings.put({ ...w.settings.docs.get(T)!, enabled: false });
    expect((await w.service.get(T))!.nextRunAt).toBeNull();
  });
});

describe('settings service: versions', () => {
  it('a save names the version it was made from: over another one it is refused and changes nothing', async () => {
    const w = setup();
    expect(await w.service.put(T, input({ apiKey: KEY, expectedVersion: -1 }))).toMatchObject({ version: 1 });
    await expect(w.service.put(T, input({ apiKey: KEY, expectedVersion: -1 }))).rejects.toMatchObject({
      code: 'CONNECTOR_SETTINGS_CHANGED',
      details: { expectedVersion: -1, currentVersion: 1 },
    });
    expect(await w.service.put(T, input({ enabled: false, expectedVersion: 1 }))).toMatchObject({
      version: 2,
    });
    // A page loaded at version 1 changes the address (same host): refused before its audit record.
    await expect(
      w.service.put(T, input({ isamsUrl: `${URL_A}/v2`, expectedVersion: 1 })),
    ).rejects.toMatchObject({
      code: 'CONNECTOR_SETTINGS_CHANGED',
      message: expect.stringContaining('reload the settings'),
      details: { expectedVersion: 1, currentVersion: 2 },
    });
    expect(w.settings.docs.get(T)).toMatchObject({ enabled: false, isamsUrl: URL_A, version: 2 });
    expect(w.audit.entries).toEqual([]);
    // Not checked: saved over whatever is stored.
    expect(await w.service.put(T, input({ format: 'json' }))).toMatchObject({ version: 3 });
    for (const expectedVersion of [-2, 1.5, Number.NaN])
      await expect(w.service.put(T, input({ expectedVersion }))).rejects.toMatchObject({
        code: 'CONNECTOR_INVALID_ARGUMENT',
        details: { field: 'expectedVersion' },
      });
    expect(w.settings.docs.get(T)!.version).toBe(3);
  });

  it('a save beaten by another sent at the same time is refused; its address-change record is settled failed', async () => {
    const w = setup();
    await w.service.put(T, input({ apiKey: KEY }));
    // The other save lands between this save's read and its write.
    const save = w.settings.save.bind(w.settings);
    w.settings.save = async (doc) => {
      await w.settings.put({ ...w.settings.docs.get(T)!, enabled: false, version: 2 });
      return save(doc);
    };
    await expect(
      w.service.put(T, input({ isamsUrl: `${URL_A}/v2`, expectedVersion: 1 })),
    ).rejects.toMatchObject({
      code: 'CONNECTOR_SETTINGS_CHANGED',
      details: { expectedVersion: 1, currentVersion: 2 },
    });
    expect(w.settings.docs.get(T)).toMatchObject({ enabled: false, isamsUrl: URL_A });
    expect(w.audit.entries.map((e) => e.outcome)).toEqual(['failed']);
  });
  it("a refused save leaves the school's next run where it was (its own move of the schedule set back)", async () => {
    const w = setup();
    await w.service.put(T, input({ apiKey: KEY }));
    const before = schoolSchedule(T, new Date('2030-01-01T00:00:00Z'), 2);
    w.schedules.docs.set(T, before);
    // Another admin pauses the school between this save's read and its write; this save changes the
    // interval, so it moves the next run before it writes the settings (domain/schedule).
    const save = w.settings.save.bind(w.settings);
    w.settings.save = async (doc) => {
      await w.settings.put({ ...w.settings.docs.get(T)!, enabled: false, version: 2 });
      return save(doc);
    };
    await expect(w.service.put(T, input({ scheduleMinutes: 120, expectedVersion: 1 }))).rejects.toMatchObject(
      { code: 'CONNECTOR_SETTINGS_CHANGED' },
    );
    expect(w.settings.docs.get(T)).toMatchObject({ enabled: false, scheduleMinutes: 60, version: 2 });
    expect(w.schedules.docs.get(T), 'the next run as it was before the refused save').toEqual(before);
  });

  it('a refused save does not take back a next run another save set meanwhile', async () => {
    const w = setup();
    await w.service.put(T, input({ apiKey: KEY }));
    w.schedules.docs.set(T, schoolSchedule(T, new Date('2030-01-01T00:00:00Z')));
    const theirs = schoolSchedule(T, new Date('2031-06-01T00:00:00Z'));
    const save = w.settings.save.bind(w.settings);
    w.settings.save = async (doc) => {
      // The other save moves the schedule after this one did, then stores its settings.
      w.schedules.docs.set(T, theirs);
      await w.settings.put({ ...w.settings.docs.get(T)!, scheduleMinutes: 90, version: 2 });
      return save(doc);
    };
    await expect(w.service.put(T, input({ scheduleMinutes: 120, expectedVersion: 1 }))).rejects.toMatchObject(
      { code: 'CONNECTOR_SETTINGS_CHANGED' },
    );
    expect(w.schedules.docs.get(T)).toEqual(theirs);
  });
});

describe('settings service: test connection', () => {
  it('uses the stored key for the stored address the way runs fetch it, and reports each dataset', async () => {
    const w = setup();
    await w.service.put(T, input({ apiKey: KEY }));
    const plan = { mode: 'groups', groups: [] } as never;
    await w.fetchPlans.put(T, plan);
    w.probe.datasets = { currentPupils: 120, currentStaff: 30 };
    w.probe.absent = ['yearGroups'];
    const result = await w.service.testConnection(T, {});
    expect(w.probe.calls).toHaveLength(1);
    expect(w.probe.calls[0]).toMatchObject({ source: { baseUrl: URL_A, apiKey: KEY, format: 'xml' }, plan });
    expect(result.ok).toBe(false);
    expect(result.bytes).toBe(1234);
    expect(result.datasets.find((d) => d.datasetId === 'currentPupils')).toMatchObject({
      present: true,
      recordCount: 120,
    });
    expect(result.missing).toContain(result.datasets.find((d) => d.datasetId === 'yearGroups')!.adminName);
    expect(result.missing).not.toContain(
      result.datasets.find((d) => d.datasetId === 'currentStaff')!.adminName,
    );
    // The slot is given back.
    expect(w.testSlots.inUse).toBe(0);
    expect(w.leases.isHeld(`test-connection:${T}`)).toBe(false);
  });

  it('another address: the stored key only for the same host, else the key must be given (whole key, no plan)', async () => {
    const w = setup();
    await w.service.put(T, input({ apiKey: KEY }));
    await w.fetchPlans.put(T, { mode: 'groups', groups: [] } as never);
    await expect(w.service.testConnection(T, { isamsUrl: 'https://evil.example.com' })).rejects.toMatchObject(
      {
        code: 'CONNECTOR_KEY_REQUIRED_FOR_NEW_ADDRESS',
      },
    );
    expect(w.probe.calls).toHaveLength(0);
    await w.service.testConnection(T, { isamsUrl: `${URL_A}/other` });
    await w.service.testConnection(T, {
      isamsUrl: 'https://new.isams.cloud',
      apiKey: OTHER_KEY,
      format: 'json',
    });
    expect(w.probe.calls.map((c) => ({ ...c.source, plan: c.plan }))).toEqual([
      { baseUrl: `${URL_A}/other`, apiKey: KEY, format: 'xml', plan: null },
      { baseUrl: 'https://new.isams.cloud', apiKey: OTHER_KEY, format: 'json', plan: null },
    ]);
  });

  it('a school without settings needs an address and a key', async () => {
    const w = setup();
    await expect(w.service.testConnection(T, {})).rejects.toMatchObject({
      code: 'CONNECTOR_SETTINGS_NOT_FOUND',
    });
    await expect(w.service.testConnection(T, { isamsUrl: URL_A })).rejects.toMatchObject({
      code: 'CONNECTOR_SETTINGS_NOT_FOUND',
    });
    w.probe.datasets = { currentPupils: 1 };
    expect((await w.service.testConnection(T, { isamsUrl: URL_A, apiKey: KEY })).ok).toBe(true);
  });

  it('an iSAMS error is the result (with the egress IPs to allow); any other error is thrown; the slot is freed', async () => {
    const w = setup();
    await w.service.put(T, input({ apiKey: KEY }));
    w.probe.failWith = 'ISAMS_IP_NOT_ALLOWED';
    const result = await w.service.testConnection(T, {});
    expect(result).toMatchObject({ ok: false, datasets: [], missing: [], bytes: 0 });
    expect(result.error).toMatchObject({ code: 'ISAMS_IP_NOT_ALLOWED' });
    expect(result.error!.adminAction).toContain('203.0.113.7');
    w.probe.failWith = new Error('bug');
    await expect(w.service.testConnection(T, {})).rejects.toThrow('bug');
    expect(w.testSlots.inUse).toBe(0);
    expect(w.leases.isHeld(`test-connection:${T}`)).toBe(false);
  });

  it("one test per school at a time: a second is refused while the first runs, and the first's signal follows its lease", async () => {
    const w = setup();
    await w.service.put(T, input({ apiKey: KEY }));
    let open!: () => void;
    w.probe.gate = new Promise<void>((resolve) => (open = resolve));
    const first = w.service.testConnection(T, {});
    await expect.poll(() => w.probe.calls.length).toBe(1);
    await expect(w.service.testConnection(T, {})).rejects.toMatchObject({
      code: 'CONNECTOR_TEST_ALREADY_RUNNING',
    });
    expect(w.probe.calls[0]!.signal.aborted).toBe(false);
    w.leases.lose(`test-connection:${T}`);
    expect(w.probe.calls[0]!.signal.aborted).toBe(true);
    open();
    await first;
    expect(w.testSlots.inUse).toBe(0);
  });
});

describe('settings service: key rotation and egress info', () => {
  it('re-encrypts every stored key under the current KEK, counting those already current', async () => {
    const k1 = kek();
    const before = setup({ cipher: createKeyCipher({ id: 'k1', key: k1 }) });
    await before.service.put(T, input({ apiKey: KEY }));
    await before.service.put(
      'school-b',
      input({ apiKey: OTHER_KEY, isamsUrl: 'https://school-b.isams.cloud' }),
    );
    expect(await before.service.rotateKeyEncryption()).toEqual({
      reencrypted: 0,
      alreadyCurrent: 2,
      left: 0,
      skipped: [],
    });

    const after = setup({
      cipher: createKeyCipher({ id: 'k2', key: kek() }, [{ id: 'k1', key: k1 }]),
      settings: before.settings,
    });
    expect(await after.service.rotateKeyEncryption()).toEqual({
      reencrypted: 2,
      alreadyCurrent: 0,
      left: 0,
      skipped: [],
    });
    for (const [tenant, key] of [
      [T, KEY],
      ['school-b', OTHER_KEY],
    ] as const) {
      const stored = (await after.service.get(tenant))!;
      expect(stored.key.kekId).toBe('k2');
      expect(await after.keys.reveal(stored)).toBe(key);
    }
    expect(await after.service.rotateKeyEncryption()).toEqual({
      reencrypted: 0,
      alreadyCurrent: 2,
      left: 0,
      skipped: [],
    });
  });

  it('rotates every key that decrypts; one that does not is skipped, named and counted as left under its old KEK', async () => {
    const k1 = kek();
    const before = setup({ cipher: createKeyCipher({ id: 'k1', key: k1 }) });
    for (const t of ['school-broken', 'school-b', 'school-c'])
      await before.service.put(t, input({ apiKey: KEY, isamsUrl: `https://${t}.isams.cloud` }));
    // The broken school comes first: its stored address was changed behind the API (another host),
    // so its key no longer decrypts (key-binding.int.test.ts makes the same state).
    const broken = before.settings.docs.get('school-broken')!;
    broken.isamsUrl = 'https://elsewhere.isams.cloud';

    const after = setup({
      cipher: createKeyCipher({ id: 'k2', key: kek() }, [{ id: 'k1', key: k1 }]),
      settings: before.settings,
    });
    expect(await after.service.rotateKeyEncryption()).toEqual({
      reencrypted: 2,
      alreadyCurrent: 0,
      left: 1,
      skipped: [{ tenantId: 'school-broken', kekId: 'k1', code: 'CONNECTOR_KEY_DECRYPT_FAILED' }],
    });
    expect(after.settings.docs.get('school-b')!.key.kekId).toBe('k2');
    expect(after.settings.docs.get('school-c')!.key.kekId).toBe('k2');
    // Left as it was: still under the previous KEK until the school enters its key again.
    expect(after.settings.docs.get('school-broken')!.key).toEqual(broken.key);

    // The school enters its key again: nothing is left, and the previous KEK may go.
    await after.service.put(
      'school-broken',
      input({ apiKey: KEY, isamsUrl: 'https://elsewhere.isams.cloud' }),
    );
    expect(await after.service.rotateKeyEncryption()).toEqual({
      reencrypted: 0,
      alreadyCurrent: 3,
      left: 0,
      skipped: [],
    });
  });

  it('a key under a KEK that is not configured is skipped and named too; other failures stop the rotation', async () => {
    const settings = new InMemorySettingsRecords();
    const old = setup({ cipher: createKeyCipher({ id: 'k0', key: kek() }), settings });
    await old.service.put('school-k0', input({ apiKey: KEY, isamsUrl: 'https://school-k0.isams.cloud' }));
    const k1 = kek();
    const current = setup({ cipher: createKeyCipher({ id: 'k1', key: k1 }), settings });
    await current.service.put(T, input({ apiKey: KEY }));
    const k2 = kek();
    const after = setup({
      cipher: createKeyCipher({ id: 'k2', key: k2 }, [{ id: 'k1', key: k1 }]),
      settings,
    });
    expect(await after.service.rotateKeyEncryption()).toMatchObject({
      reencrypted: 1,
      left: 1,
      skipped: [{ tenantId: 'school-k0', kekId: 'k0', code: 'CONNECTOR_KEK_UNKNOWN' }],
    });

    const failing = setup({
      cipher: createKeyCipher({ id: 'k3', key: kek() }, [{ id: 'k2', key: k2 }]),
      settings,
    });
    failing.settings.replaceKey = () => Promise.reject(new Error('database unavailable'));
    await expect(failing.service.rotateKeyEncryption()).rejects.toThrow('database unavailable');
  });

  it('egress info names the IPs to allow, the integrator properties and the datasets', () => {
    const info = setup().service.egressInfo();
    expect(info.egressIps).toEqual(['203.0.113.7']);
    expect(info.instructions).toContain('203.0.113.7');
    expect(info.integratorProperties).toHaveLength(2);
    expect(info.datasets.length).toBeGreaterThan(0);
  });
});
