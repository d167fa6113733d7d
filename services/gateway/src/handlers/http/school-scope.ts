import type { FastifyInstance } from 'fastify';
import type { AuthDeps } from './auth';
import { authenticateSchool, requireOwnSchool } from './auth';

/**
 * Registers `plugin` in a scope where every route is authenticated (school token or JWT) before
 * its body is even read, and a `:schoolId` in the path must be the credential's own school.
 */
export async function registerSchoolScope(
  app: FastifyInstance,
  auth: AuthDeps,
  plugin: (scoped: FastifyInstance) => Promise<void>,
): Promise<void> {
  await app.register(async (scoped) => {
    const authenticate = authenticateSchool(auth);
    scoped.addHook('onRequest', async (request) => {
      await authenticate(request);
      if ((request.params as Record<string, unknown> | undefined)?.schoolId !== undefined) {
        await requireOwnSchool(request);
      }
    });
    await plugin(scoped);
  });
}
