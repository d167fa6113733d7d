import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ConnectorErrors } from '../../domain/connector-errors';

/** An encrypted Batch API key as stored: AES-256-GCM, AAD = tenant id. */
export interface EncryptedKey {
  kekId: string;
  /** base64 */
  iv: string;
  /** base64 */
  ciphertext: string;
  /** base64, 16 bytes */
  tag: string;
}

/** Encrypts/decrypts iSAMS keys under the configured key-encryption keys. */
export interface KeyCipher {
  readonly currentKekId: string;
  encrypt(tenantId: string, plaintext: string): EncryptedKey;
  decrypt(tenantId: string, encrypted: EncryptedKey): string;
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
 * AES-256-GCM with a random 12-byte IV per encryption and the tenant id as additional authenticated
 * data, so a ciphertext copied to another school's settings does not decrypt. Previous KEKs decrypt
 * only (rotation); encryption always uses the current one.
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
    encrypt(tenantId, plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', keks.get(current.id)!, iv);
      cipher.setAAD(Buffer.from(tenantId, 'utf8'));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return {
        kekId: current.id,
        iv: iv.toString('base64'),
        ciphertext: ciphertext.toString('base64'),
        tag: cipher.getAuthTag().toString('base64'),
      };
    },
    decrypt(tenantId, encrypted) {
      const kek = keks.get(encrypted.kekId);
      if (!kek) throw ConnectorErrors.CONNECTOR_KEK_UNKNOWN({ kekId: encrypted.kekId });
      try {
        const decipher = createDecipheriv('aes-256-gcm', kek, Buffer.from(encrypted.iv, 'base64'));
        decipher.setAAD(Buffer.from(tenantId, 'utf8'));
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
