import type { FastifyReply, FastifyRequest } from 'fastify';
import { bearerCredential, credentialKind } from '../../domain/admin-token';
import { GatewayErrors } from '../../domain/gateway-errors';
import type { CallContext, Principal } from '../../domain/principal';
import type { JwtVerifier } from '../../adapters/auth/jwt-verifier';
import { secretsEqual } from '../../adapters/auth/token-crypto';
import type { AdminTokens } from '../../use-cases/admin-tokens';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** What authentication needs. */
export interface AuthDeps {
  adminTokens: AdminTokens;
  jwtVerifier?: JwtVerifier;
  operatorToken?: string;
}

/** preHandler: a school admin token or JWT → `request.principal`; else 401. */
export function authenticateSchool(deps: AuthDeps) {
  return async (request: FastifyRequest): Promise<void> => {
    const credential = bearerCredential(request.headers.authorization);
    if (credential === undefined) throw GatewayErrors.GATEWAY_UNAUTHENTICATED();
    const kind = credentialKind(credential);
    let principal: Principal;
    if (kind === 'admin_token') principal = await deps.adminTokens.verify(credential);
    else if (kind === 'jwt' && deps.jwtVerifier !== undefined) principal = await deps.jwtVerifier(credential);
    else throw GatewayErrors.GATEWAY_TOKEN_INVALID();
    request.principal = principal;
    request.log = request.log.child({ tenantId: principal.tenantId, actor: principal.actor });
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
  const principal = request.principal;
  if (principal === undefined) throw GatewayErrors.GATEWAY_UNAUTHENTICATED();
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return {
    tenantId: principal.tenantId,
    requestId: request.id,
    actor: principal.actor,
    signal: controller.signal,
  };
}
