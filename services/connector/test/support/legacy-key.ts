import { createCipheriv, randomBytes } from 'node:crypto';
import type { EncryptedKey } from '../../src/domain/school-settings';

/**
 * A key encrypted the way the connector stored keys before the host binding: AES-256-GCM under
 * `kekBase64`, AAD = the school's id alone, no `binding` marker.
 */
export function legacyKey(
  kekBase64: string,
  tenantId: string,
  plaintext: string,
  kekId = 'k1',
): EncryptedKey {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(kekBase64, 'base64'), iv);
  cipher.setAAD(Buffer.from(tenantId, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return {
    kekId,
    iv: iv.toString('base64'),
    ciphertext: ciphertext.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
  };
}
