import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { httpStatusFor, isAppError } from '@isams-sync/errors';
import type { Logger } from '@isams-sync/logger';
import type { SimulatorConfig } from './config';
import { SchoolRegistry } from './domain/school-registry';
import { createGeneratedSchool, createXmlSchool } from './domain/simulated-school';
import type { KeyOptions } from './domain/simulated-school';
import type { SchoolSize } from './domain/school-model';
import { registerAdminRoutes } from './handlers/http/admin.routes';
import { registerBatchRoutes } from './handlers/http/batch.routes';

export interface SimulatorAppOptions {
  /** Shared registry (tests pass one to inspect it); a new one by default. */
  registry?: SchoolRegistry;
  /** Clock for cache expiry and throttling windows; `Date.now` by default. */
  now?: () => number;
  logger?: Logger;
}

export type SimulatorAppConfig = Pick<
  SimulatorConfig,
  'SIM_TRUST_PROXY' | 'SIM_INTERNAL_TIMEOUT_MS' | 'SIM_SLOW_MS'
> &
  Partial<Pick<SimulatorConfig, 'SIM_SCHOOLS_FILE' | 'SIM_SCHOOL_ID' | 'SIM_API_KEY' | 'SIM_SEED_SCHOOLS'>>;

interface SchoolsFileEntry extends KeyOptions {
  schoolId: string;
  seed?: number;
  size?: SchoolSize;
  xmlFile?: string;
}

/** Creates the schools named by `SIM_SEED_SCHOOLS` and `SIM_SCHOOLS_FILE`. */
export function loadInitialSchools(config: SimulatorAppConfig, registry: SchoolRegistry): void {
  for (const spec of config.SIM_SEED_SCHOOLS ?? []) {
    const [schoolId, seed, size, apiKey] = spec.split(':');
    if (!schoolId || !seed || !['small', 'medium', 'large'].includes(size ?? '')) {
      throw new Error(`SIM_SEED_SCHOOLS entry "${spec}" is not id:seed:size[:apiKey]`);
    }
    registry.add(createGeneratedSchool(schoolId, Number(seed), size as SchoolSize, apiKey ? { apiKey } : {}));
  }
  const file = config.SIM_SCHOOLS_FILE;
  if (!file) return;
  const text = readFileSync(file, 'utf8');
  if (/\.xml$/i.test(file)) {
    registry.add(
      createXmlSchool(
        config.SIM_SCHOOL_ID ?? 'file-school',
        text,
        config.SIM_API_KEY ? { apiKey: config.SIM_API_KEY } : {},
      ),
    );
    return;
  }
  const parsed = JSON.parse(text) as { schools: SchoolsFileEntry[] };
  for (const { schoolId, seed, size, xmlFile, ...key } of parsed.schools) {
    if (xmlFile)
      registry.add(createXmlSchool(schoolId, readFileSync(resolve(dirname(file), xmlFile), 'utf8'), key));
    else registry.add(createGeneratedSchool(schoolId, seed ?? 1, size ?? 'small', key));
  }
}

/** Composition root: the Batch API, the admin API and `/health` on one fastify instance. */
export function createSimulatorApp(
  config: SimulatorAppConfig,
  options: SimulatorAppOptions = {},
): FastifyInstance {
  const registry = options.registry ?? new SchoolRegistry();
  const now = options.now ?? Date.now;
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    // iSAMS runs on IIS: paths match case-insensitively.
    routerOptions: { caseSensitive: false },
    bodyLimit: 50 * 1024 * 1024,
  }) as unknown as FastifyInstance;

  app.setErrorHandler((err, request, reply) => {
    if (isAppError(err)) {
      return reply
        .code(httpStatusFor(err))
        .send({ error: { code: err.code, message: err.message, details: err.details } });
    }
    const status = (err as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) {
      return reply
        .code(status)
        .send({ error: { code: 'SIM_INVALID_REQUEST', message: (err as Error).message } });
    }
    request.log.error({ err }, 'simulator request failed');
    return reply.code(500).send({ error: { code: 'SIM_INTERNAL', message: 'Internal simulator error' } });
  });

  loadInitialSchools(config, registry);
  app.get('/health', async () => ({ status: 'ok' }));
  registerBatchRoutes(app, {
    registry,
    trustProxy: config.SIM_TRUST_PROXY,
    internalTimeoutMs: config.SIM_INTERNAL_TIMEOUT_MS,
    slowMs: config.SIM_SLOW_MS,
    now,
  });
  registerAdminRoutes(app, { registry, now });
  return app;
}
