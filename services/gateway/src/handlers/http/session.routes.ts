import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AuditLog } from '../../adapters/mongo/audit-log.repository';
import { GatewayErrors } from '../../domain/gateway-errors';
import { schoolIdParam, schoolRoute } from './route-schemas';

const meSchema = z.object({
  schoolId: z.string().describe('The school this credential acts for'),
  actor: z.string(),
  authMethod: z.enum(['admin_token', 'jwt']),
});

const auditSchema = z.object({
  entries: z.array(
    z.object({
      at: z.string(),
      action: z.string(),
      actor: z.string(),
      requestId: z.string(),
      target: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
      outcome: z.enum(['succeeded', 'failed']),
      errorCode: z.string().optional(),
    }),
  ),
});

/** Who am I, and the school's audit log. */
export const sessionRoutes: FastifyPluginAsyncZod<{ auditLog: AuditLog }> = async (app, opts) => {
  app.get(
    '/api/v1/me',
    schoolRoute(['session'], 'The school and identity of the presented credential', {
      response: { 200: meSchema },
    }),
    async (request) => {
      const p = request.principal;
      if (p === undefined) throw GatewayErrors.GATEWAY_UNAUTHENTICATED();
      return { schoolId: p.tenantId, actor: p.actor, authMethod: p.method };
    },
  );

  app.get(
    '/api/v1/schools/:schoolId/audit-log',
    schoolRoute(['session'], 'Configuration changes, runs, approvals and discards, newest first', {
      params: schoolIdParam,
      querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) }),
      response: { 200: auditSchema },
    }),
    async (request) => ({
      entries: (await opts.auditLog.list(request.params.schoolId, request.query.limit)).map((e) => ({
        at: e.at,
        action: e.action,
        actor: e.actor,
        requestId: e.requestId,
        ...(e.target === undefined ? {} : { target: e.target }),
        outcome: e.outcome,
        ...(e.errorCode === undefined ? {} : { errorCode: e.errorCode }),
      })),
    }),
  );
};
