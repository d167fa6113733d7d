import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Fastify from 'fastify';
import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import { httpStatusFor, isAppError } from '@isams-sync/errors';
import type { Logger } from '@isams-sync/logger';
import type { SimulatorConfig } from './config';
import { SchoolRegistry } from './domain/school-registry';
import { CONNECTION_MODES, createGeneratedSchool, createXmlSchool } from './domain/simulated-school';
import type { ConnectionMode, KeyOptions, ServerOptions } from './domain/simulated-school';
import type { GenerationModel } from './domain/generation-model';
import type { SchoolSize } from './domain/school-model';
import { registerAdminRoutes, serverFields } from './handlers/http/admin.routes';
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

interface SchoolsFileEntry extends KeyOptions, ServerOptions {
  schoolId: string;
  seed?: number;
  size?: SchoolSize;
  xmlFile?: string;
}

const GENERATION_OPTIONS: readonly (keyof GenerationModel)[] = [
  'limitMs',
  'msPerMethod',
  'msPer1000Rows',
  'deadlockPer1000Rows',
];

/**
 * One `SIM_SEED_SCHOOLS` entry: `id:seed:size[:apiKey][:name=value…]`, options `connection=close`
 * and the generation model's `limitMs`, `msPerMethod`, `msPer1000Rows`, `deadlockPer1000Rows`.
 */
function parseSeedSpec(spec: string): {
  schoolId: string;
  seed: number;
  size: SchoolSize;
  key: KeyOptions;
  server: ServerOptions;
} {
  const [schoolId, seed, size, ...rest] = spec.split(':');
  const bad = (why: string) =>
    new Error(`SIM_SEED_SCHOOLS entry "${spec}" ${why} (expected id:seed:size[:apiKey][:name=value…])`);
  if (!schoolId || !seed || !['small', 'medium', 'large'].includes(size ?? '')) throw bad('is malformed');
  const key: KeyOptions = {};
  const generation: Partial<GenerationModel> = {};
  let connection: ConnectionMode | undefined;
  rest.forEach((part, i) => {
    const eq = part.indexOf('=');
    if (eq < 0) {
      if (i > 0) throw bad(`has "${part}" where an option name=value belongs`);
      key.apiKey = part;
      return;
    }
    const name = part.slice(0, eq);
    const value = part.slice(eq + 1);
    if (name === 'connection') {
      if (!(CONNECTION_MODES as readonly string[]).includes(value))
        throw bad(`has connection=${value} (keep-alive or close)`);
      connection = value as ConnectionMode;
    } else if ((GENERATION_OPTIONS as readonly string[]).includes(name)) {
      const n = Number(value);
      if (value === '' || !Number.isFinite(n) || n < 0) throw bad(`has ${name}=${value} (a number ≥ 0)`);
      generation[name as keyof GenerationModel] = n;
    } else {
      throw bad(`has the unknown option ${name}`);
    }
  });
  return {
    schoolId,
    seed: Number(seed),
    size: size as SchoolSize,
    key,
    server: {
      ...(connection ? { connection } : {}),
      ...(Object.keys(generation).length > 0 ? { generation } : {}),
    },
  };
}

/** Creates the schools named by `SIM_SEED_SCHOOLS` and `SIM_SCHOOLS_FILE`. */
export function loadInitialSchools(config: SimulatorAppConfig, registry: SchoolRegistry): void {
  for (const spec of config.SIM_SEED_SCHOOLS ?? []) {
    const { schoolId, seed, size, key, server } = parseSeedSpec(spec);
    registry.add(createGeneratedSchool(schoolId, seed, size, key, server));
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
  for (const { schoolId, seed, size, xmlFile, connection, generation, ...key } of parsed.schools) {
    const checked = z.object(serverFields).safeParse({ connection, generation });
    if (!checked.success)
      throw new Error(
        `SIM_SCHOOLS_FILE school "${schoolId}": ${checked.error.issues[0]?.message ?? 'invalid'}`,
      );
    const server: ServerOptions = {
      ...(connection ? { connection } : {}),
      ...(generation ? { generation } : {}),
    };
    if (xmlFile)
      registry.add(
        createXmlSchool(schoolId, readFileSync(resolve(dirname(file), xmlFile), 'utf8'), key, server),
      );
    else registry.add(createGeneratedSchool(schoolId, seed ?? 1, size ?? 'small', key, server));
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
