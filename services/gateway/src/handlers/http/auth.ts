import type { FastifyReply, FastifyRequest } from 'fastify';
import { bearerCredential, credentialKind } from '../../domain/admin-token';
import { GatewayErrors } from '../../domain/gateway-errors';
import type { CallContext, Principal } from '../../domain/principal';
import type { JwtVerifier } from '../../adapters/auth/jwt-verifier';
import { secretsEqual } from '../../domain/token-crypto';
import type { AdminTokens } from '../../use-cases/admin-tokens';
import type { FailedAuthLimiter } from './failed-auth-limiter';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyContextConfig {
    /** A route of the school scope: authenticated, and rate-limited per credential. */
    schoolScoped?: boolean;
  }
}

/** What authentication needs. */
export interface AuthDeps {
  adminTokens: AdminTokens;
  jwtVerifier?: JwtVerifier;
  operatorToken?: string;
}

/** The principal of a school admin token or JWT; throws `GATEWAY_TOKEN_INVALID` when it is not valid. */
export async function verifySchoolCredential(deps: AuthDeps, credential: string): Promise<Principal> {
  const kind = credentialKind(credential);
  if (kind === 'admin_token') return deps.adminTokens.verify(credential);
  if (kind === 'jwt' && deps.jwtVerifier !== undefined) return deps.jwtVerifier(credential);
  throw GatewayErrors.GATEWAY_TOKEN_INVALID();
}

/** preHandler: a school admin token or JWT → `request.principal`; else 401. */
export function authenticateSchool(deps: AuthDeps) {
  return async (request: FastifyRequest): Promise<void> => {
    const credential = bearerCredential(request.headers.authorization);
    if (credential === undefined) throw GatewayErrors.GATEWAY_UNAUTHENTICATED();
    const principal = await verifySchoolCredential(deps, credential);
    request.principal = principal;
    // Logs name a signed-in admin by a pseudonym (`loggedAs`); the audit log keeps who they are.
    request.log = request.log.child({ tenantId: principal.tenantId, actor: principal.loggedAs });
  };
}

/**
 * preHandler after {@link authenticateSchool}: the `:schoolId` in the path must be the credential's
 * school. Another school's id is answered exactly like an unknown one (404), so ids reveal nothing.
 */
export async function requireOwnSchool(request: FastifyRequest): Promise<void> {
  const params = request.params as { schoolId?: unknown };
  if (request.principal === undefined) throw GatewayErrors.GATEWAY_UNAUTHENTICATED();
  if (params.schoolId !== request.principal.tenantId)
    throw GatewayErrors.GATEWAY_NOT_FOUND({ resource: 'School' });
}

/**
 * Runs `authenticate` under the failed-auth limiter: a presented credential that fails counts
 * against the client address, and once the address is over its limit further failures are answered
 * 429 instead of 401. A valid credential is never refused here, whatever its address did.
 */
export async function authenticateLimited(
  request: FastifyRequest,
  reply: FastifyReply,
  limiter: FailedAuthLimiter,
  authenticate: (request: FastifyRequest) => Promise<void>,
): Promise<void> {
  try {
    await authenticate(request);
  } catch (err) {
    if (!GatewayErrors.GATEWAY_TOKEN_INVALID.is(err)) throw err;
    const blocked = limiter.blocked(request.ip);
    limiter.fail(request.ip);
    if (blocked === undefined) throw err;
    reply.header('retry-after', String(blocked.retryAfterSeconds));
    throw GatewayErrors.GATEWAY_RATE_LIMITED(blocked);
  }
}

/** preHandler for platform-operator routes: the configured operator token, compared in constant time. */
export function authenticateOperator(operatorToken: string) {
  return async (request: FastifyRequest): Promise<void> => {
    const credential = bearerCredential(request.headers.authorization);
    if (credential === undefined) throw GatewayErrors.GATEWAY_UNAUTHENTICATED();
    if (!secretsEqual(credential, operatorToken)) throw GatewayErrors.GATEWAY_TOKEN_INVALID();
    request.log = request.log.child({ actor: 'operator' });
  };
}

/** The upstream call context of an authenticated request; aborts when the client disconnects. */
export function callContext(request: FastifyRequest, reply: FastifyReply): CallContext {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return { ...writeContext(request), signal: controller.signal };
}

/**
 * The upstream call context of a request that changes something (a save, a run, a decision, an
 * undo): not cancelled when the client goes away. A cancelled call may still have been carried out
 * upstream, and its audit entry would then say `failed` — an admin could approve and hang up to have
 * the approval recorded as failed. The upstream deadline still bounds it.
 */
export function writeContext(request: FastifyRequest): CallContext {
  const principal = request.principal;
  if (principal === undefined) throw GatewayErrors.GATEWAY_UNAUTHENTICATED();
  return { tenantId: principal.tenantId, requestId: request.id, actor: principal.actor };
}
