import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { RosterGateway } from '../../use-cases/ports';
import type { AuditLog } from '../../adapters/mongo/audit-log.repository';
import {
  ENTITY_TYPES,
  putRemovalThresholdsBodySchema,
  removalThresholdsSchema,
} from '../../domain/models/roster.models';
import type { RemovalThresholds } from '../../domain/models/roster.models';
import { auditedAs } from './audit';
import { callContext, writeContext } from './auth';
import { schoolIdParam, schoolRoute } from './route-schemas';

/** Dependencies of the removal-threshold routes. */
export interface ThresholdsRoutesOptions {
  roster: RosterGateway;
  auditLog: AuditLog;
}

const withTypes = (t: RemovalThresholds) => ({ ...t, entityTypes: [...ENTITY_TYPES] });

/** The school's removal thresholds (the roster's guard: above them, removals are held for an admin). */
export const thresholdsRoutes: FastifyPluginAsyncZod<ThresholdsRoutesOptions> = async (app, opts) => {
  const { roster, auditLog } = opts;
  const tags = ['data source'];
  const url = '/api/v1/schools/:schoolId/removal-thresholds';

  app.get(
    url,
    schoolRoute(tags, 'Removal thresholds: above them a run holds its removals for an admin', {
      params: schoolIdParam,
      response: { 200: removalThresholdsSchema },
    }),
    async (request, reply) => withTypes(await roster.getRemovalThresholds(callContext(request, reply))),
  );

  app.put(
    url,
    schoolRoute(tags, 'Change the removal thresholds; fields left out keep their stored values', {
      params: schoolIdParam,
      body: putRemovalThresholdsBodySchema,
      response: { 200: removalThresholdsSchema },
    }),
    async (request) => {
      const ctx = writeContext(request);
      const body = request.body;
      return auditedAs(
        auditLog,
        request,
        ctx,
        'removal-thresholds.update',
        {
          ...(body.default ? { defaultPercent: body.default.percent, defaultMin: body.default.min } : {}),
          ...(body.byType
            ? { byType: body.byType.map((t) => `${t.entityType}:${t.percent}%/${t.min}`).join(',') }
            : {}),
        },
        async () => {
          const current = await roster.getRemovalThresholds(ctx);
          return withTypes(
            await roster.setRemovalThresholds(ctx, {
              default: body.default ?? current.default,
              byType: body.byType ?? current.byType,
            }),
          );
        },
      );
    },
  );
};
