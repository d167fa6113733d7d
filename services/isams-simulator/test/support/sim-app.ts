import { afterAll, beforeAll, beforeEach } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createSimulatorApp } from '../../src/app';
import { SchoolRegistry } from '../../src/domain/school-registry';

export const KEY = '0A1C996B-8E74-4388-A3C4-8DA1E40ADA57';

// Admin responses are asserted field by field in tests.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AdminJson = any;

export interface TestSim {
  app: FastifyInstance;
  registry: SchoolRegistry;
  clock: { now: number };
  admin(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    body?: unknown,
  ): Promise<{ status: number; json: AdminJson }>;
}

/** A simulator with a manual clock (cache expiry and throttle windows advance only when told). */
export function testSim(overrides: { trustProxy?: boolean; internalTimeoutMs?: number } = {}): TestSim {
  const registry = new SchoolRegistry();
  const clock = { now: 1_700_000_000_000 };
  const app = createSimulatorApp(
    {
      SIM_TRUST_PROXY: overrides.trustProxy ?? false,
      SIM_INTERNAL_TIMEOUT_MS: overrides.internalTimeoutMs ?? 200,
      SIM_SLOW_MS: 50,
    },
    { registry, now: () => clock.now },
  );
  return {
    app,
    registry,
    clock,
    admin: async (method, url, body) => {
      const res = await app.inject({
        method,
        url,
        ...(body !== undefined ? { payload: body as object } : {}),
      });
      return { status: res.statusCode, json: res.body ? JSON.parse(res.body) : undefined };
    },
  };
}

/** A {@link testSim} listening on a loopback port: `baseUrl` is where the real client reaches it. */
export interface ListeningSim extends TestSim {
  baseUrl: string;
}

/**
 * Registers the calling file's hooks: a {@link testSim} listening on a free loopback port (filled in
 * before the first test), every school removed before each test, closed after all of them.
 */
export function useListeningSim(overrides: Parameters<typeof testSim>[0] = {}): ListeningSim {
  const sim = {} as ListeningSim;
  beforeAll(async () => {
    Object.assign(sim, testSim(overrides));
    sim.baseUrl = await sim.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await sim.app.close();
  });
  beforeEach(() => {
    for (const s of sim.registry.list()) sim.registry.remove(s.schoolId);
  });
  return sim;
}
