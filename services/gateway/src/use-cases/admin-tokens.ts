import type { AdminTokenInfo } from '../domain/admin-token';
import { tokenExpiry } from '../domain/admin-token';
import { GatewayErrors } from '../domain/gateway-errors';
import type { Principal } from '../domain/principal';
import type { AdminTokenRepository } from './ports';
import { generateAdminToken, generateTokenId, hashToken } from '../domain/token-crypto';

/** An issued token: the secret is in `token`, returned exactly once. */
export interface IssuedAdminToken extends AdminTokenInfo {
  token: string;
}

/** Issue, list, revoke and verify school admin tokens. */
export interface AdminTokens {
  issue(input: { tenantId: string; label: string; createdBy: string }): Promise<IssuedAdminToken>;
  list(tenantId: string): Promise<AdminTokenInfo[]>;
  revoke(tokenId: string, actor: string): Promise<AdminTokenInfo>;
  /** The principal of a valid, unrevoked, unexpired token; throws `GATEWAY_TOKEN_INVALID` otherwise. */
  verify(token: string): Promise<Principal>;
}

/** Builds {@link AdminTokens} over a repository; `pepper` keys the HMAC stored at rest. */
export function createAdminTokens(
  repo: AdminTokenRepository,
  options: { pepper: string; maxAgeMs: number },
  now: () => Date = () => new Date(),
): AdminTokens {
  const { pepper, maxAgeMs } = options;
  return {
    async issue({ tenantId, label, createdBy }) {
      const token = generateAdminToken();
      const createdAt = now();
      const doc = {
        _id: generateTokenId(),
        tenantId,
        hash: hashToken(pepper, token),
        label,
        createdAt,
        createdBy,
        expiresAt: tokenExpiry(createdAt, null, maxAgeMs),
        revokedAt: null,
        revokedBy: null,
        lastUsedAt: null,
      };
      await repo.insert(doc);
      return {
        token,
        tokenId: doc._id,
        tenantId,
        label,
        createdAt: doc.createdAt.toISOString(),
        createdBy,
        expiresAt: doc.expiresAt.toISOString(),
        revokedAt: null,
        lastUsedAt: null,
      };
    },
    list: (tenantId) => repo.list(tenantId),
    async revoke(tokenId, actor) {
      const info = await repo.revoke(tokenId, actor, now());
      if (info === null) throw GatewayErrors.GATEWAY_TOKEN_NOT_FOUND();
      return info;
    },
    async verify(token) {
      const doc = await repo.findByHash(hashToken(pepper, token));
      const at = now();
      if (doc === null || doc.revokedAt !== null) throw GatewayErrors.GATEWAY_TOKEN_INVALID();
      if (at >= tokenExpiry(doc.createdAt, doc.expiresAt, maxAgeMs))
        throw GatewayErrors.GATEWAY_TOKEN_INVALID();
      // Last-used is informational; refresh it at most once a minute per token.
      if (doc.lastUsedAt === null || at.getTime() - doc.lastUsedAt.getTime() > 60_000) {
        await repo.touch(doc._id, at);
      }
      const actor = `token:${doc._id}`;
      return { tenantId: doc.tenantId, actor, loggedAs: actor, method: 'admin_token' };
    },
  };
}
