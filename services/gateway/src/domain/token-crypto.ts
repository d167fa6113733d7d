import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { ADMIN_TOKEN_PREFIX } from './admin-token';

/** A fresh admin token: the prefix and 32 random bytes (base64url). Shown once, never stored. */
export function generateAdminToken(): string {
  return `${ADMIN_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** A fresh, non-secret token id (what operators list and revoke). */
export function generateTokenId(): string {
  return randomUUID();
}

/** HMAC-SHA256(pepper, token), hex: what is stored and looked up. */
export function hashToken(pepper: string, token: string): string {
  return createHmac('sha256', pepper).update(token, 'utf8').digest('hex');
}

/** Constant-time comparison of two secrets of any length (compares their SHA-256 HMACs). */
export function secretsEqual(a: string, b: string): boolean {
  const key = randomBytes(32);
  const ha = createHmac('sha256', key).update(a).digest();
  const hb = createHmac('sha256', key).update(b).digest();
  return timingSafeEqual(ha, hb);
}

/**
 * What stands for a presented credential where requests are counted by it (the rate limits, the
 * live-progress stream caps): SHA-256, base64url, 32 characters — the credential itself is never kept.
 */
export function credentialKey(credential: string): string {
  return createHash('sha256').update(credential).digest('base64url').slice(0, 32);
}
