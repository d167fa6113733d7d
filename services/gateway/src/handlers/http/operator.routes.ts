import { TENANT_ID_PATTERN } from '@isams-sync/grpc';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AuditLog } from '../../adapters/mongo/audit-log.repository';
import type { AdminTokens } from '../../use-cases/admin-tokens';
import { errorBodySchema } from '../../domain/models/common.models';
import { audited } from './audit';
import { authenticateLimited, authenticateOperator } from './auth';
import type { FailedAuthLimiter } from './failed-auth-limiter';

const tokenInfoSchema = z.object({
  tokenId: z.string(),
  tenantId: z.string(),
  label: z.string(),
  createdAt: z.string(),
  createdBy: z.string(),
  expiresAt: z.string(),
  revokedAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
});

const errors = { 400: errorBodySchema, 401: errorBodySchema, 404: errorBodySchema, 429: errorBodySchema };
const security = [{ operatorAuth: [] }];
// A regex (not a refine) so the OpenAPI document states the rule the route enforces.
const tenantIdSchema = z
  .string()
  .regex(TENANT_ID_PATTERN, 'expected 1–64 of A-Za-z0-9_- starting alphanumeric');

/** Platform-operator token administration (authenticated with GATEWAY_OPERATOR_TOKEN). */
export const operatorRoutes: FastifyPluginAsyncZod<{
  adminTokens: AdminTokens;
  auditLog: AuditLog;
  operatorToken: string;
  limiter: FailedAuthLimiter;
  /** Called after a revocation, to end what the token still holds open (live-progress streams). */
  onRevoked?: (tokenId: string) => void;
}> = async (app, opts) => {
  const authenticate = authenticateOperator(opts.operatorToken);
  app.addHook('onRequest', async (request, reply) => {
    await authenticateLimited(request, reply, opts.limiter, authenticate);
  });
  const tags = ['operator'];

  app.post(
    '/api/v1/operator/tokens',
    {
      schema: {
        tags,
        summary: 'Issue a school admin token (the token is in this response only; it is stored hashed)',
        security,
        body: z
          .object({
            tenantId: tenantIdSchema,
            label: z.string().trim().min(1).max(100),
            createdBy: z.string().trim().min(1).max(200).default('operator'),
          })
          .strict(),
        response: { 201: tokenInfoSchema.extend({ token: z.string() }), ...errors },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const issued = await audited(
        opts.auditLog,
        request,
        {
          tenantId: body.tenantId,
          actor: `operator:${body.createdBy}`,
          action: 'token.issue',
          target: { label: body.label },
        },
        () => opts.adminTokens.issue(body),
      );
      return reply.code(201).send(issued);
    },
  );

  app.get(
    '/api/v1/operator/tokens',
    {
      schema: {
        tags,
        summary: "List a school's admin tokens (never the tokens themselves)",
        security,
        querystring: z.object({ tenantId: tenantIdSchema }),
        response: { 200: z.object({ tokens: z.array(tokenInfoSchema) }), ...errors },
      },
    },
    async (request) => ({ tokens: await opts.adminTokens.list(request.query.tenantId) }),
  );

  app.delete(
    '/api/v1/operator/tokens/:tokenId',
    {
      schema: {
        tags,
        summary: 'Revoke an admin token (idempotent)',
        security,
        params: z.object({ tokenId: z.uuid() }),
        response: { 200: tokenInfoSchema, ...errors },
      },
    },
    async (request) => {
      const info = await opts.adminTokens.revoke(request.params.tokenId, 'operator');
      opts.onRevoked?.(info.tokenId);
      await opts.auditLog
        .record({
          tenantId: info.tenantId,
          action: 'token.revoke',
          actor: 'operator',
          requestId: request.id,
          target: { tokenId: info.tokenId },
          outcome: 'succeeded',
        })
        .catch((err: unknown) => request.log.error({ err }, 'audit entry not written'));
      return info;
    },
  );
};
