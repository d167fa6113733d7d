import { createHmac } from 'node:crypto';
import { isValidTenantId } from '@isams-sync/grpc';
import { createLocalJWKSet, jwtVerify } from 'jose';
import type { JSONWebKeySet } from 'jose';
import { GatewayErrors } from '../../domain/gateway-errors';
import type { Principal } from '../../domain/principal';

/** Verifies a signed JWT into a {@link Principal}. */
export type JwtVerifier = (token: string) => Promise<Principal>;

/** Options of {@link createJwtVerifier}. */
export interface JwtVerifierOptions {
  /** JWKS JSON (`{"keys":[…]}`) of the public keys whose signatures are accepted. */
  jwks: string;
  /** Required `iss`. */
  issuer: string;
  /** Required `aud` (one of the token's audiences). */
  audience: string;
  /** A token must carry `iat` and be younger than this (ms), whatever its `exp` says. */
  maxAgeMs: number;
  /** Keys the pseudonym logs name the admin by (`Principal.loggedAs`): a guessed subject cannot be checked without it. */
  pseudonymKey: string;
}

/** `jwt:#` and the first 16 hex digits of HMAC-SHA256(`key`, subject). */
export function subjectPseudonym(key: string, sub: string): string {
  return `jwt:#${createHmac('sha256', key).update(`log-actor:${sub}`).digest('hex').slice(0, 16)}`;
}

const ALGORITHMS = ['RS256', 'ES256'];

/**
 * A verifier for RS256/ES256 JWTs signed by one of the configured keys. The token must carry a
 * well-formed `tenantId` claim (the school) and a `sub` (the admin, used as the audit actor); `exp`,
 * `iat`, `iss` and `aud` are required, `iss`/`aud` must be the configured ones and `iat` no older
 * than `maxAgeMs`.
 */
export function createJwtVerifier(options: JwtVerifierOptions): JwtVerifier {
  let keySet: JSONWebKeySet;
  try {
    keySet = JSON.parse(options.jwks) as JSONWebKeySet;
  } catch (err) {
    throw new Error('GATEWAY_JWT_PUBLIC_KEYS is not valid JSON (expected a JWKS {"keys":[…]})', {
      cause: err,
    });
  }
  if (!Array.isArray(keySet.keys) || keySet.keys.length === 0) {
    throw new Error('GATEWAY_JWT_PUBLIC_KEYS has no keys');
  }
  const keys = createLocalJWKSet(keySet);
  return async (token) => {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        algorithms: ALGORITHMS,
        requiredClaims: ['exp', 'iat', 'sub', 'iss', 'aud'],
        issuer: options.issuer,
        audience: options.audience,
        maxTokenAge: Math.floor(options.maxAgeMs / 1000),
      }));
    } catch (err) {
      throw GatewayErrors.GATEWAY_TOKEN_INVALID(undefined, { cause: err });
    }
    const tenantId = payload.tenantId;
    const sub = payload.sub;
    if (!isValidTenantId(tenantId) || typeof sub !== 'string' || sub === '') {
      throw GatewayErrors.GATEWAY_TOKEN_INVALID();
    }
    const actor = `jwt:${sub.slice(0, 200)}`;
    return { tenantId, actor, loggedAs: subjectPseudonym(options.pseudonymKey, actor), method: 'jwt' };
  };
}
