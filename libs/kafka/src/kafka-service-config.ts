import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { env } from '@isams-sync/config';
import type { Logger } from '@isams-sync/logger';
import type { KafkaClientOptions } from './kafka-client';

/**
 * The Kafka part of every service's environment (spread it into the service's zod schema), so
 * connection, TLS and SASL settings are read the same way everywhere. See docs/configuration.md.
 */
export const kafkaServiceConfig = {
  KAFKA_BROKERS: env.csv(),
  /** Defaults to the service name. */
  KAFKA_CLIENT_ID: z.string().trim().min(1).optional(),
  KAFKA_TOPIC_REPLICATION_FACTOR: env.int({ min: 1, max: 7 }).default(3),
  /** Create the declared topics at start-up (the Helm hook Job also does; both are idempotent). */
  KAFKA_ENSURE_TOPICS: env.bool().default(true),
  KAFKA_SSL: env.bool().default(false),
  /** PEM bundle of the CA that signed the brokers' certificates (default: the system CAs). */
  KAFKA_SSL_CA_FILE: z.string().trim().min(1).optional(),
  KAFKA_SASL_MECHANISM: env.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  KAFKA_SASL_USERNAME: z.string().trim().min(1).optional(),
  KAFKA_SASL_PASSWORD: env.secret().optional(),
  /**
   * How long one publish keeps retrying a broker that is away (restart, leader change) before the
   * caller sees KAFKA_PUBLISH_TIMEOUT (default 5 min).
   */
  KAFKA_PUBLISH_DEADLINE_MS: env.durationMs().default(300_000),
  /** First back-off of a consumer retrying a transiently failing event (default 200 ms). */
  KAFKA_CONSUMER_RETRY_INITIAL_MS: env.durationMs().default(200),
  /** Cap of that back-off (default 30 s); the event is retried until it succeeds. */
  KAFKA_CONSUMER_RETRY_MAX_MS: env.durationMs().default(30_000),
} as const;

/** The parsed Kafka settings of a service. */
export type KafkaServiceConfig = z.infer<z.ZodObject<typeof kafkaServiceConfig>>;

/** The producer options of {@link createEventProducer} that the environment sets. */
export function kafkaProducerOptionsFromConfig(config: KafkaServiceConfig): { publishDeadlineMs: number } {
  return { publishDeadlineMs: config.KAFKA_PUBLISH_DEADLINE_MS };
}

/** The consumer options of {@link runConsumer} that the environment sets. */
export function kafkaConsumerOptionsFromConfig(config: KafkaServiceConfig): {
  backoff: { initialMs: number; maxMs: number };
} {
  return {
    backoff: { initialMs: config.KAFKA_CONSUMER_RETRY_INITIAL_MS, maxMs: config.KAFKA_CONSUMER_RETRY_MAX_MS },
  };
}

/**
 * Turns the parsed settings into {@link KafkaClientOptions}. Throws a plain Error naming the
 * variables when SASL is half-configured (services call this at start-up, so it fails fast).
 */
export function kafkaClientOptionsFromConfig(
  config: KafkaServiceConfig,
  opts: { service: string; logger: Logger; readFile?: (path: string) => string },
): KafkaClientOptions {
  const readFile = opts.readFile ?? ((path: string) => readFileSync(path, 'utf8'));
  const options: KafkaClientOptions = {
    brokers: config.KAFKA_BROKERS,
    clientId: config.KAFKA_CLIENT_ID ?? opts.service,
    logger: opts.logger,
  };
  if (config.KAFKA_SSL) {
    options.ssl = config.KAFKA_SSL_CA_FILE
      ? { ca: readFile(config.KAFKA_SSL_CA_FILE), rejectUnauthorized: true }
      : true;
  } else if (config.KAFKA_SSL_CA_FILE) {
    throw new Error('KAFKA_SSL_CA_FILE is set but KAFKA_SSL is false: set KAFKA_SSL=true to use TLS');
  }
  if (config.KAFKA_SASL_MECHANISM) {
    if (!config.KAFKA_SASL_USERNAME || !config.KAFKA_SASL_PASSWORD) {
      throw new Error('KAFKA_SASL_MECHANISM needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD');
    }
    options.sasl = {
      mechanism: config.KAFKA_SASL_MECHANISM,
      username: config.KAFKA_SASL_USERNAME,
      password: config.KAFKA_SASL_PASSWORD,
    };
  } else if (config.KAFKA_SASL_USERNAME || config.KAFKA_SASL_PASSWORD) {
    throw new Error('KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD are set but KAFKA_SASL_MECHANISM is not');
  }
  return options;
}
