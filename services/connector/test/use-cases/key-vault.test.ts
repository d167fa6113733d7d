import { randomBytes } from 'node:crypto';
import { createLogger } from '@isams-sync/logger';
import { describe, expect, it } from 'vitest';
import { createKeyCipher } from '../../src/adapters/crypto/key-cipher';
import type { EncryptedKey, SchoolSettings } from '../../src/domain/school-settings';
import { KeyVault } from '../../src/use-cases/key-vault';
import { InMemorySettingsRecords, schoolSettings } from '../support/in-memory/settings-ports';
import { legacyKey } from '../support/legacy-key';

// The key vault's rules on the real cipher and an in-memory settings store (the MongoDB store and the
// whole connector: test/int/key-binding.int.test.ts, test/int/kek-rotation…).

const logger = createLogger({ service: 'key-vault-test', level: 'silent' });
const KEY = '{11111111-2222-3333-4444-555566667777}';
const URL_A = 'https://school-a.isams.cloud';
const kek = () => randomBytes(32).toString('base64');

const settings = (tenantId: string, key: EncryptedKey, isamsUrl = URL_A): SchoolSettings =>
  schoolSettings(tenantId, { key, isamsUrl });

describe('key vault', () => {
  it('seals a key bound to the school and host; reveals it for the stored address only', async () => {
    const cipher = createKeyCipher({ id: 'k1', key: kek() });
    const store = new InMemorySettingsRecords();
    const vault = new KeyVault(store, cipher, logger);
    const sealed = vault.seal('t1', `${URL_A}/path`, KEY);
    expect(sealed.binding).toBe('tenant-origin');
    expect(await vault.reveal(settings('t1', sealed))).toBe(KEY);
    await expect(vault.reveal(settings('t1', sealed, 'https://other.isams.cloud'))).rejects.toMatchObject({
      code: 'CONNECTOR_KEY_DECRYPT_FAILED',
    });
    await expect(vault.reveal(settings('t2', sealed))).rejects.toMatchObject({
      code: 'CONNECTOR_KEY_DECRYPT_FAILED',
    });
  });

  it('revealing a legacy key binds it to the stored address on the way (compare and set)', async () => {
    const k = kek();
    const cipher = createKeyCipher({ id: 'k1', key: k });
    const stored = settings('t1', legacyKey(k, 't1', KEY));
    const store = new InMemorySettingsRecords([stored]);
    const vault = new KeyVault(store, cipher, logger);
    expect(await vault.reveal(stored)).toBe(KEY);
    const after = store.docs.get('t1')!;
    expect(after.key.binding).toBe('tenant-origin');
    expect(await vault.reveal(after)).toBe(KEY);
    // Revealing the same (now outdated) read again does not overwrite the bound key.
    const boundKey = after.key;
    expect(await vault.reveal(stored)).toBe(KEY);
    expect(store.docs.get('t1')!.key).toEqual(boundKey);
  });

  it('re-encrypts under the current KEK; false when the key already is current and bound', async () => {
    const old = kek();
    const oldCipher = createKeyCipher({ id: 'k1', key: old });
    const cipher = createKeyCipher({ id: 'k2', key: kek() }, [{ id: 'k1', key: old }]);
    const stored = settings('t1', oldCipher.encrypt({ tenantId: 't1', origin: URL_A }, KEY));
    const store = new InMemorySettingsRecords([stored]);
    const vault = new KeyVault(store, cipher, logger);
    expect(vault.currentKekId).toBe('k2');
    expect(await vault.reencrypt(stored)).toBe(true);
    const after = store.docs.get('t1')!;
    expect(after.key.kekId).toBe('k2');
    expect(await vault.reveal(after)).toBe(KEY);
    expect(await vault.reencrypt(after)).toBe(false);
    // Settings changed since they were read: nothing replaced.
    expect(await vault.reencrypt(stored)).toBe(false);
    expect(store.docs.get('t1')!.key).toEqual(after.key);
  });

  it('binds every legacy key at start-up; a key that does not decrypt is counted and left as it is', async () => {
    const k = kek();
    const cipher = createKeyCipher({ id: 'k1', key: k });
    const good = settings('t1', legacyKey(k, 't1', KEY));
    const broken = settings('t2', legacyKey(kek(), 't2', KEY));
    const bound = settings('t3', cipher.encrypt({ tenantId: 't3', origin: URL_A }, KEY));
    const store = new InMemorySettingsRecords([good, broken, bound]);
    const vault = new KeyVault(store, cipher, logger);
    expect(await vault.bindLegacyKeys()).toEqual({ bound: 1, failed: 1 });
    expect(store.docs.get('t1')!.key.binding).toBe('tenant-origin');
    expect(store.docs.get('t2')!.key).toEqual(broken.key);
    expect(store.docs.get('t3')!.key).toEqual(bound.key);
    expect(await vault.bindLegacyKeys()).toEqual({ bound: 0, failed: 1 });
  });
});
