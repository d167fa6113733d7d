import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ConnectorErrors } from '../../domain/connector-errors';
import type { KeyBinding } from '../../domain/key-binding';
import { KEY_BINDING, isLegacyKey } from '../../domain/school-settings';
import type { EncryptedKey } from '../../domain/school-settings';
import type { KeyCipher } from '../../use-cases/ports';

export { KEY_BINDING, isLegacyKey } from '../../domain/school-settings';
export type { EncryptedKey } from '../../domain/school-settings';
export type { KeyCipher } from '../../use-cases/ports';

/**
 * The AAD of a bound key: a versioned JSON array, so no school id or origin can be shaped to equal
 * another pair's AAD, and a bound ciphertext never equals a legacy one's (AAD = the bare school id).
 */
function bindingAad(binding: KeyBinding): Buffer {
  return Buffer.from(JSON.stringify(['isams-sync/isams-key/v2', binding.tenantId, binding.origin]), 'utf8');
}

function aadFor(binding: KeyBinding, encrypted: EncryptedKey): Buffer {
  return isLegacyKey(encrypted) ? Buffer.from(binding.tenantId, 'utf8') : bindingAad(binding);
}

function decodeKek(id: string, base64: string): Buffer {
  const key = Buffer.from(base64.trim(), 'base64');
  if (key.length !== 32) throw new Error(`key-encryption key ${id} must be base64 of exactly 32 bytes`);
  return key;
}

/** Parses `CONNECTOR_KEK_PREVIOUS` (`id:base64,id:base64`). */
export function parsePreviousKeks(value: string | undefined): Array<{ id: string; key: string }> {
  if (!value) return [];
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const at = entry.indexOf(':');
      if (at <= 0) throw new Error('CONNECTOR_KEK_PREVIOUS entries must be id:base64');
      return { id: entry.slice(0, at), key: entry.slice(at + 1) };
    });
}

/**
 * AES-256-GCM with a random 12-byte IV per encryption and the school and iSAMS origin as additional
 * authenticated data, so a ciphertext copied to another school's settings, or a stored address
 * changed to another host, does not decrypt. Previous KEKs decrypt only (rotation); encryption
 * always uses the current one.
 */
export function createKeyCipher(
  current: { id: string; key: string },
  previous: Array<{ id: string; key: string }> = [],
): KeyCipher {
  const keks = new Map<string, Buffer>();
  for (const k of previous) keks.set(k.id, decodeKek(k.id, k.key));
  keks.set(current.id, decodeKek(current.id, current.key));
  return {
    currentKekId: current.id,
    encrypt(binding, plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', keks.get(current.id)!, iv);
      cipher.setAAD(bindingAad(binding));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return {
        kekId: current.id,
        binding: KEY_BINDING,
        iv: iv.toString('base64'),
        ciphertext: ciphertext.toString('base64'),
        tag: cipher.getAuthTag().toString('base64'),
      };
    },
    decrypt(binding, encrypted) {
      const kek = keks.get(encrypted.kekId);
      if (!kek) throw ConnectorErrors.CONNECTOR_KEK_UNKNOWN({ kekId: encrypted.kekId });
      try {
        const decipher = createDecipheriv('aes-256-gcm', kek, Buffer.from(encrypted.iv, 'base64'));
        decipher.setAAD(aadFor(binding, encrypted));
        decipher.setAuthTag(Buffer.from(encrypted.tag, 'base64'));
        return Buffer.concat([
          decipher.update(Buffer.from(encrypted.ciphertext, 'base64')),
          decipher.final(),
        ]).toString('utf8');
      } catch {
        // The cause is dropped on purpose: nothing about the key material may reach logs.
        throw ConnectorErrors.CONNECTOR_KEY_DECRYPT_FAILED({ kekId: encrypted.kekId });
      }
    },
  };
}
