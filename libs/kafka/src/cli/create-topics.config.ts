import { z } from 'zod';
import { env, loadConfig } from '@isams-sync/config';

/** Environment of the local create-topics CLI (the Helm hook runs tools/build/create-topics.ts instead). */
export const createTopicsConfigSchema = z.object({
  KAFKA_BROKERS: env.csv(),
  KAFKA_CLIENT_ID: z.string().trim().min(1).default('isams-sync-create-topics'),
  /** Overrides every topic's replication factor (e.g. 3 in production); default = broker default. */
  KAFKA_REPLICATION_FACTOR: env.int({ min: 1, max: 32 }).optional(),
  /** `warn` lets an upgrade proceed when an existing topic has a different partition count. */
  KAFKA_TOPIC_MISMATCH: env.enum(['error', 'warn']).default('error'),
  LOG_LEVEL: env.logLevel().default('info'),
});

export type CreateTopicsConfig = z.infer<typeof createTopicsConfigSchema>;

export const loadCreateTopicsConfig = (
  e: Record<string, string | undefined> = process.env,
): CreateTopicsConfig => loadConfig(createTopicsConfigSchema, e);
