import { randomBytes } from 'node:crypto';
import { createLogger } from '@isams-sync/logger';
import { describe, expect, it } from 'vitest';
import { createKeyCipher } from '../../src/adapters/crypto/key-cipher';
import { KeyVault } from '../../src/use-cases/key-vault';
import type { KeyCipher } from '../../src/use-cases/ports';
import { SettingsService } from '../../src/use-cases/settings-service';
import type { PutSettingsInput } from '../../src/use-cases/settings-service';
import {
  InMemoryFetchPlans,
  InMemorySettingsAudit,
  InMemorySchedules,
  InMemorySettingsRecords,
  ScriptedProbe,
} from '../support/in-memory/settings-ports';

// The versioned settings save (cd0fb8b) against interleavings: a KEK rotation between a save's read
// and write, a set-back racing a later save, a write whose answer was lost. Found by review.

const logger = createLogger({ service: 'settings-races', level: 'silent' });
const T = 'school-a';
const KEY = '{11111111-2222-3333-4444-555566667777}';
const URL_A = 'https://school-a.isams.cloud';
const kek = () => randomBytes(32).toString('base64');

function setup(
  cipher: KeyCipher,
  settings = new InMemorySettingsRecords(),
  schedules = new InMemorySchedules(),
) {
  const keys = new KeyVault(settings, cipher, logger);
  const audit = new InMemorySettingsAudit();
  const service = new SettingsService(
    {
      settings,
      schedules,
      keys,
      fetchPlans: new InMemoryFetchPlans(),
      probe: new ScriptedProbe(),
      logger,
      audit,
    },
    {
      allowInsecureLoopback: false,
      scheduleJitterMs: 60_000,
      egressIps: [],
      egress: { allowPrivateAddresses: false, hostSuffixes: [], allowedPorts: [443] },
    },
  );
  return { service, settings, schedules, keys, audit };
}

const input = (over: Partial<PutSettingsInput> = {}): PutSettingsInput => ({
  isamsUrl: URL_A,
  format: 'xml',
  scheduleMinutes: 60,
  enabled: true,
  ...over,
});

describe('the versioned settings save, interleaved', () => {
  it('a save that lands between the KEK rotation reading and re-encrypting does not put the key back under the old KEK', async () => {
    const k1 = kek();
    const before = setup(createKeyCipher({ id: 'k1', key: k1 }));
    await before.service.put(T, input({ apiKey: KEY, expectedVersion: -1 }));
    // The operator rotates to k2 while an admin saves (a pause; no key typed) from version 1.
    const after = setup(createKeyCipher({ id: 'k2', key: kek() }, [{ id: 'k1', key: k1 }]), before.settings);
    const save = after.settings.save.bind(after.settings);
    let rotation: Awaited<ReturnType<SettingsService['rotateKeyEncryption']>> | undefined;
    after.settings.save = async (doc, keptKey) => {
      after.settings.save = save;
      rotation = await after.service.rotateKeyEncryption(); // lands between the save's read and write
      return save(doc, keptKey);
    };
    // The save read the key before it was re-encrypted: refused (the admin reloads), not stored.
    await expect(after.service.put(T, input({ enabled: false, expectedVersion: 1 }))).rejects.toMatchObject({
      code: 'CONNECTOR_SETTINGS_CHANGED',
    });
    // The rotation told the operator nothing is left under k1, so k1 may be dropped.
    expect(rotation).toMatchObject({ reencrypted: 1, left: 0 });
    expect(after.settings.docs.get(T)!.key.kekId, 'the stored key after the rotation reported 0 left').toBe(
      'k2',
    );
  });

  it("a refused save's set-back does not clear the next run of a save stored after its refusal (sync on, no time)", async () => {
    const w = setup(createKeyCipher({ id: 'k1', key: kek() }));
    await w.service.put(T, input({ apiKey: KEY, enabled: false, expectedVersion: -1 }));
    expect(w.schedules.docs.get(T)?.nextRunAt ?? null).toBeNull();
    // Save A (from version 1) turns sync on: it moves the next run, then another admin's save C
    // (version 2, still off) is stored first, so A is refused.
    const save = w.settings.save.bind(w.settings);
    w.settings.save = async (doc) => {
      w.settings.save = save;
      await w.settings.put({
        ...w.settings.docs.get(T)!,
        notificationEmails: ['head@school.org'],
        version: 2,
      });
      return save(doc);
    };
    // Just before A sets its move back, admin D, who loaded version 2, turns sync on.
    const setNextIf = w.schedules.setNextIf.bind(w.schedules);
    w.schedules.setNextIf = async (tenantId, expected, next) => {
      w.schedules.setNextIf = setNextIf;
      // A later millisecond than A's: the times are compared by value, and D's is now + the same
      // per-school jitter as A's (two saves in one millisecond are told apart by nothing).
      const aNow = Date.now();
      while (Date.now() === aNow) await new Promise((r) => setImmediate(r));
      await w.service.put(T, input({ enabled: true, expectedVersion: 2 }));
      return setNextIf(tenantId, expected, next);
    };
    await expect(w.service.put(T, input({ enabled: true, expectedVersion: 1 }))).rejects.toMatchObject({
      code: 'CONNECTOR_SETTINGS_CHANGED',
    });
    expect(w.settings.docs.get(T)).toMatchObject({ enabled: true, version: 3 });
    expect(w.schedules.docs.get(T)?.nextRunAt ?? null, "D's next run (sync is on)").not.toBeNull();
  });

  it('a save whose write landed but whose answer was lost (storage error) is not audited failed', async () => {
    const w = setup(createKeyCipher({ id: 'k1', key: kek() }));
    await w.service.put(T, input({ apiKey: KEY, expectedVersion: -1 }));
    const save = w.settings.save.bind(w.settings);
    w.settings.save = async (doc) => {
      w.settings.save = save;
      await save(doc);
      throw Object.assign(new Error('connection reset'), { code: 'MONGO_UNAVAILABLE' });
    };
    await expect(
      w.service.put(T, input({ isamsUrl: `${URL_A}/v2`, expectedVersion: 1 })),
    ).rejects.toMatchObject({ code: 'MONGO_UNAVAILABLE' });
    expect(w.settings.docs.get(T)).toMatchObject({ isamsUrl: `${URL_A}/v2`, version: 2 });
    expect(
      w.audit.entries.map((e) => e.outcome),
      'the address change is stored',
    ).not.toEqual(['failed']);
  });
});
