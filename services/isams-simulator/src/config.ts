import { commonServiceConfig, env, loadConfig } from '@isams-sync/config';
import { z } from 'zod';

/**
 * Environment of the simulator (dev and test only; never deployed to production).
 * - `SIM_HOST`/`SIM_PORT`: where the Batch API and the admin API listen (default 127.0.0.1:8480).
 * - `SIM_TRUST_PROXY`: take the caller address from X-Forwarded-For (default false: the socket's).
 * - `SIM_INTERNAL_TIMEOUT_MS`: duration of the `timeout35s` fault (default 35 s, as iSAMS).
 * - `SIM_SLOW_MS`: default delay of the `slow` fault (default 5 s).
 * - `SIM_SCHOOLS_FILE`: optional JSON file of schools to create at start-up, or an XML file to serve
 *   as one school (`SIM_SCHOOL_ID`, `SIM_API_KEY` name it).
 * - `SIM_SEED_SCHOOLS`: optional `id:seed:size[:apiKey]` list, e.g. `demo:42:small`.
 */
export const configSchema = z.object({
  ...commonServiceConfig,
  NODE_ENV: env.enum(['development', 'test', 'production']).default('development'),
  SIM_HOST: z.string().trim().min(1).default('127.0.0.1'),
  SIM_PORT: env.port({ allowZero: true }).default(8480),
  SIM_TRUST_PROXY: env.bool().default(false),
  SIM_INTERNAL_TIMEOUT_MS: env.durationMs().default(35_000),
  SIM_SLOW_MS: env.durationMs().default(5_000),
  SIM_SCHOOLS_FILE: z.string().trim().min(1).optional(),
  SIM_SCHOOL_ID: z.string().trim().min(1).default('file-school'),
  SIM_API_KEY: z.string().trim().min(1).optional(),
  SIM_SEED_SCHOOLS: env.csv().optional(),
});

export type SimulatorConfig = z.infer<typeof configSchema>;

export function loadSimulatorConfig(e: Record<string, string | undefined> = process.env): SimulatorConfig {
  return loadConfig(configSchema, e);
}
