import type { FastifyInstance } from 'fastify';
import type { AuthDeps } from './auth';
import { authenticateLimited, authenticateSchool, requireOwnSchool } from './auth';
import type { FailedAuthLimiter } from './failed-auth-limiter';

/**
 * Registers `plugin` in a scope where every route is authenticated (school token or JWT) before
 * its body is even read, and a `:schoolId` in the path must be the credential's own school.
 */
export async function registerSchoolScope(
  app: FastifyInstance,
  auth: AuthDeps,
  limiter: FailedAuthLimiter,
  plugin: (scoped: FastifyInstance) => Promise<void>,
): Promise<void> {
  await app.register(async (scoped) => {
    // Marks the scope's routes: the general rate limit keys them by credential (http-server.ts).
    scoped.addHook('onRoute', (route) => {
      route.config = { ...route.config, schoolScoped: true };
    });
    const authenticate = authenticateSchool(auth);
    scoped.addHook('onRequest', async (request, reply) => {
      await authenticateLimited(request, reply, limiter, authenticate);
      if ((request.params as Record<string, unknown> | undefined)?.schoolId !== undefined) {
        await requireOwnSchool(request);
      }
    });
    await plugin(scoped);
  });
}
