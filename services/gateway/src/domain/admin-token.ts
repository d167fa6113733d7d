/** Prefix of school admin tokens, so they are recognisable in secret scanners and support tickets. */
export const ADMIN_TOKEN_PREFIX = 'isg_';

const ADMIN_TOKEN_PATTERN = /^isg_[A-Za-z0-9_-]{43}$/;
const JWT_PATTERN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** How a bearer credential should be verified. */
export type CredentialKind = 'admin_token' | 'jwt' | 'unknown';

/** Classifies a bearer credential by its shape (no verification). */
export function credentialKind(credential: string): CredentialKind {
  if (ADMIN_TOKEN_PATTERN.test(credential)) return 'admin_token';
  if (JWT_PATTERN.test(credential)) return 'jwt';
  return 'unknown';
}

/** The credential of an `Authorization: Bearer …` header, or undefined. */
export function bearerCredential(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** A stored admin token as listed to an operator (never the hash). */
export interface AdminTokenInfo {
  tokenId: string;
  tenantId: string;
  label: string;
  createdAt: string;
  createdBy: string;
  /** When it stops working: issue time + `GATEWAY_ADMIN_TOKEN_MAX_AGE` at the latest. */
  expiresAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

/**
 * When a token stops working: its stored expiry, but never later than `createdAt + maxAgeMs` —
 * so lowering the maximum age also shortens tokens already issued, and a token stored before
 * expiries existed gets one.
 */
export function tokenExpiry(
  createdAt: Date,
  storedExpiresAt: Date | null | undefined,
  maxAgeMs: number,
): Date {
  const cap = createdAt.getTime() + maxAgeMs;
  return new Date(storedExpiresAt == null ? cap : Math.min(storedExpiresAt.getTime(), cap));
}
