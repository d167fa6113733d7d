import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createKeyCipher, isLegacyKey, parsePreviousKeks } from '../../src/adapters/crypto/key-cipher';
import { legacyKey } from '../support/legacy-key';

const kek = () => randomBytes(32).toString('base64');
const KEY = '{11111111-2222-3333-4444-555566667777}';
const A = { tenantId: 't1', origin: 'https://school-a.isams.cloud' };

const decryptFailed = expect.objectContaining({ code: 'CONNECTOR_KEY_DECRYPT_FAILED' });

describe('key cipher (AES-256-GCM, AAD = school + iSAMS origin)', () => {
  it('round-trips, uses a fresh IV each time, marks the key as bound and never stores the plaintext', () => {
    const c = createKeyCipher({ id: 'k1', key: kek() });
    const a = c.encrypt(A, KEY);
    const b = c.encrypt(A, KEY);
    expect(a.iv).not.toBe(b.iv);
    expect(Buffer.from(a.iv, 'base64')).toHaveLength(12);
    expect(a.binding).toBe('tenant-origin');
    expect(isLegacyKey(a)).toBe(false);
    expect(JSON.stringify(a)).not.toContain('5555');
    expect(c.decrypt(A, a)).toBe(KEY);
  });

  it('a bound key decrypts for its own school and host only', () => {
    const c = createKeyCipher({ id: 'k1', key: kek() });
    const e = c.encrypt(A, KEY);
    for (const other of [
      { ...A, tenantId: 't2' },
      { ...A, origin: 'https://attacker.example' },
      { ...A, origin: 'https://school-a.isams.cloud:8443' },
      { ...A, origin: 'http://school-a.isams.cloud' },
      // An attempt to shift the boundary between the two parts of the AAD.
      { tenantId: 't1","https://school-a.isams.cloud', origin: '' },
    ]) {
      expect(() => c.decrypt(other, e)).toThrow(decryptFailed);
    }
  });

  it('fails for a tampered ciphertext, a stripped binding marker or an unknown KEK, without leaking the key', () => {
    const c = createKeyCipher({ id: 'k1', key: kek() });
    const e = c.encrypt(A, KEY);
    const { binding: _binding, ...stripped } = e;
    for (const bad of [
      () => c.decrypt(A, { ...e, tag: Buffer.alloc(16).toString('base64') }),
      () => c.decrypt(A, stripped),
    ]) {
      expect(bad).toThrow(decryptFailed);
      expect(JSON.stringify(captured(bad))).not.toContain('5555');
    }
    expect(() => c.decrypt(A, { ...e, kekId: 'k9' })).toThrow(
      expect.objectContaining({ code: 'CONNECTOR_KEK_UNKNOWN' }),
    );
  });

  it('reads a legacy key (AAD = school only) for its school, and re-encrypts it bound', () => {
    const k = kek();
    const c = createKeyCipher({ id: 'k1', key: k });
    const legacy = legacyKey(k, 't1', KEY);
    expect(isLegacyKey(legacy)).toBe(true);
    expect(c.decrypt(A, legacy)).toBe(KEY);
    expect(() => c.decrypt({ ...A, tenantId: 't2' }, legacy)).toThrow(decryptFailed);
    const bound = c.encrypt(A, c.decrypt(A, legacy));
    expect(isLegacyKey(bound)).toBe(false);
    expect(c.decrypt(A, bound)).toBe(KEY);
    // Marking a legacy ciphertext as bound does not make it decrypt for any host.
    expect(() => c.decrypt(A, { ...legacy, binding: 'tenant-origin' })).toThrow(decryptFailed);
  });

  it('decrypts with a previous KEK during rotation and encrypts with the current one, keeping the binding', () => {
    const old = kek();
    const before = createKeyCipher({ id: 'k1', key: old }).encrypt(A, KEY);
    const after = createKeyCipher({ id: 'k2', key: kek() }, parsePreviousKeks(`k1:${old}`));
    expect(after.decrypt(A, before)).toBe(KEY);
    const rotated = after.encrypt(A, KEY);
    expect(rotated).toMatchObject({ kekId: 'k2', binding: 'tenant-origin' });
    expect(() => after.decrypt({ ...A, origin: 'https://attacker.example' }, rotated)).toThrow(decryptFailed);
    expect(() => createKeyCipher({ id: 'k1', key: 'c2hvcnQ=' })).toThrow(/32 bytes/);
    expect(() => parsePreviousKeks('nocolon')).toThrow(/id:base64/);
  });
});

/** The error `fn` throws (serialised by the caller to check it carries no key material). */
function captured(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return { ...(err as object), message: (err as Error).message };
  }
  throw new Error('expected a throw');
}
