import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createKeyCipher, parsePreviousKeks } from '../../src/adapters/crypto/key-cipher';

const kek = () => randomBytes(32).toString('base64');
const KEY = '{11111111-2222-3333-4444-555566667777}';

describe('key cipher (AES-256-GCM, AAD = tenant id)', () => {
  it('round-trips, uses a fresh IV each time and never stores the plaintext', () => {
    const c = createKeyCipher({ id: 'k1', key: kek() });
    const a = c.encrypt('t1', KEY);
    const b = c.encrypt('t1', KEY);
    expect(a.iv).not.toBe(b.iv);
    expect(Buffer.from(a.iv, 'base64')).toHaveLength(12);
    expect(JSON.stringify(a)).not.toContain('5555');
    expect(c.decrypt('t1', a)).toBe(KEY);
  });
  it('fails for another tenant (AAD), a tampered ciphertext or an unknown KEK, without leaking the key', () => {
    const c = createKeyCipher({ id: 'k1', key: kek() });
    const e = c.encrypt('t1', KEY);
    for (const bad of [
      () => c.decrypt('t2', e),
      () => c.decrypt('t1', { ...e, tag: Buffer.alloc(16).toString('base64') }),
    ]) {
      expect(bad).toThrow(expect.objectContaining({ code: 'CONNECTOR_KEY_DECRYPT_FAILED' }));
    }
    expect(() => c.decrypt('t1', { ...e, kekId: 'k9' })).toThrow(
      expect.objectContaining({ code: 'CONNECTOR_KEK_UNKNOWN' }),
    );
  });
  it('decrypts with a previous KEK during rotation and encrypts with the current one', () => {
    const old = kek();
    const before = createKeyCipher({ id: 'k1', key: old }).encrypt('t1', KEY);
    const after = createKeyCipher({ id: 'k2', key: kek() }, parsePreviousKeks(`k1:${old}`));
    expect(after.decrypt('t1', before)).toBe(KEY);
    expect(after.encrypt('t1', KEY).kekId).toBe('k2');
    expect(() => createKeyCipher({ id: 'k1', key: 'c2hvcnQ=' })).toThrow(/32 bytes/);
    expect(() => parsePreviousKeks('nocolon')).toThrow(/id:base64/);
  });
});
