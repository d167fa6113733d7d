/**
 * The chart's pre-install/pre-upgrade hook: creates the declared Kafka topics (`TOPICS` of
 * `@isams-sync/events`) from the same environment variables the services read, so the Helm values
 * never repeat the topic list. Bundled into the connector image as `dist/create-topics/main.js`.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { commonServiceConfig, env, loadConfig } from '@isams-sync/config';
import { TOPICS } from '@isams-sync/events';
import type { TopicSpec } from '@isams-sync/events';
import { createKafkaClient, ensureTopics } from '@isams-sync/kafka';
import type { EnsureTopicsResult, KafkaSslOptions } from '@isams-sync/kafka';
import type { Logger } from '@isams-sync/logger';

/** The variables the hook Job reads (a subset of docs/configuration.md's common variables). */
export const createTopicsConfigSchema = z.object({
  NODE_ENV: commonServiceConfig.NODE_ENV,
  LOG_LEVEL: commonServiceConfig.LOG_LEVEL,
  KAFKA_BROKERS: env.csv(),
  KAFKA_CLIENT_ID: z.string().trim().min(1).default('isams-sync-create-topics'),
  KAFKA_SSL: env.bool().default(false),
  KAFKA_SSL_CA_FILE: z.string().trim().min(1).optional(),
  KAFKA_SASL_MECHANISM: env.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  KAFKA_SASL_USERNAME: z.string().trim().min(1).optional(),
  KAFKA_SASL_PASSWORD: env.secret().optional(),
  KAFKA_TOPIC_REPLICATION_FACTOR: env.int({ min: 1, max: 7 }).default(3),
});

/** Parsed {@link createTopicsConfigSchema}. */
export type CreateTopicsConfig = z.infer<typeof createTopicsConfigSchema>;

/** Validates the environment; throws `ConfigError` listing every bad variable. */
export function loadCreateTopicsConfig(
  e: Record<string, string | undefined> = process.env,
): CreateTopicsConfig {
  const config = loadConfig(createTopicsConfigSchema, e);
  if (config.KAFKA_SASL_MECHANISM && !(config.KAFKA_SASL_USERNAME && config.KAFKA_SASL_PASSWORD)) {
    // Reuse the same validation path so the message has the usual `VARIABLE: reason` shape.
    loadConfig(
      createTopicsConfigSchema.extend({
        KAFKA_SASL_USERNAME: z.string().min(1),
        KAFKA_SASL_PASSWORD: env.secret(),
      }),
      e,
    );
  }
  return config;
}

/** Creates the missing topics of `specs` (default: every declared topic) and checks the existing ones. */
export async function createTopics(
  config: CreateTopicsConfig,
  logger: Logger,
  specs: readonly TopicSpec[] = TOPICS,
): Promise<EnsureTopicsResult> {
  let ssl: KafkaSslOptions | undefined;
  if (config.KAFKA_SSL)
    ssl = config.KAFKA_SSL_CA_FILE ? { ca: readFileSync(config.KAFKA_SSL_CA_FILE, 'utf8') } : true;
  const client = createKafkaClient({
    brokers: config.KAFKA_BROKERS,
    clientId: config.KAFKA_CLIENT_ID,
    logger,
    ssl,
    sasl:
      config.KAFKA_SASL_MECHANISM && config.KAFKA_SASL_USERNAME && config.KAFKA_SASL_PASSWORD
        ? {
            mechanism: config.KAFKA_SASL_MECHANISM,
            username: config.KAFKA_SASL_USERNAME,
            password: config.KAFKA_SASL_PASSWORD,
          }
        : undefined,
  });
  return ensureTopics(client, specs, { replicationFactor: config.KAFKA_TOPIC_REPLICATION_FACTOR, logger });
}
