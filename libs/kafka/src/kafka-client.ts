import type {
  Admin,
  Kafka as KafkaJs,
  KafkaConfig,
  LogEntry,
  SASLOptions,
  logLevel as KafkaLogLevelType,
} from 'kafkajs';
import { Kafka, logLevel as KafkaLogLevel } from './kafkajs-runtime';
import type { Logger } from '@isams-sync/logger';
import { KafkaErrors, reasonOf } from './kafka-errors';

/** TLS settings (PEM strings). `true` = TLS with the system CAs. */
export type KafkaSslOptions =
  boolean | { ca?: string; cert?: string; key?: string; rejectUnauthorized?: boolean };

/** SASL credentials. */
export interface KafkaSaslOptions {
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  username: string;
  password: string;
}

/** Retry policy of every request the client makes (connects, metadata, produce …). */
export interface KafkaRetryOptions {
  /** Retries after the first attempt (kafkajs default 5). */
  retries?: number;
  initialRetryTimeMs?: number;
  maxRetryTimeMs?: number;
}

/** Options of {@link createKafkaClient}. */
export interface KafkaClientOptions {
  /** `host:port` bootstrap brokers. Use `127.0.0.1`, not `localhost`, for a local broker. */
  brokers: string[];
  /** Identifies this process in broker logs and quotas, e.g. the service name. */
  clientId: string;
  /** Root or child logger; kafkajs logs are routed into it under `component: 'kafkajs'`. */
  logger: Logger;
  ssl?: KafkaSslOptions;
  sasl?: KafkaSaslOptions;
  /** TCP connect timeout per broker (default 3000). */
  connectionTimeoutMs?: number;
  /** Per-request timeout (default 30000). */
  requestTimeoutMs?: number;
  retry?: KafkaRetryOptions;
}

/**
 * The adapter's handle on a cluster. Producers, consumers and admin helpers of this package take it.
 * The kafkajs object behind it is private to this package (see {@link kafkajsOf}), so callers never
 * depend on kafkajs and swapping the library is this package's change alone.
 */
export interface KafkaClient {
  readonly clientId: string;
  readonly brokers: readonly string[];
  readonly logger: Logger;
  /**
   * Asks the cluster for its brokers (a real request, suitable for readiness probes). `retries`
   * overrides the client's retry count for this call (readiness probes use 0: fail fast, probe again
   * at the next interval).
   * @throws AppError `KAFKA_UNAVAILABLE`
   */
  describeCluster(options?: {
    retries?: number;
  }): Promise<{ brokers: number; controller: number | null; clusterId: string }>;
}

const PINO_LEVEL: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [KafkaLogLevel.ERROR]: 'error',
  [KafkaLogLevel.WARN]: 'warn',
  [KafkaLogLevel.INFO]: 'info',
  [KafkaLogLevel.DEBUG]: 'debug',
};

/** kafkajs `logCreator` that writes into pino (never `console`). */
export function pinoLogCreator(logger: Logger) {
  const kafkaLogger = logger.child({ component: 'kafkajs' });
  return () =>
    ({ namespace, level, log }: LogEntry): void => {
      const { message, timestamp: _timestamp, logger: _name, ...extra } = log;
      kafkaLogger[PINO_LEVEL[level] ?? 'info']({ namespace, ...extra }, message);
    };
}

function kafkaLogLevelFor(logger: Logger): KafkaLogLevelType {
  if (logger.isLevelEnabled('debug')) return KafkaLogLevel.DEBUG;
  if (logger.isLevelEnabled('info')) return KafkaLogLevel.INFO;
  if (logger.isLevelEnabled('warn')) return KafkaLogLevel.WARN;
  return KafkaLogLevel.ERROR;
}

/** Creates a client for a Kafka cluster. Nothing connects until a producer/consumer/admin is used. */
export function createKafkaClient(options: KafkaClientOptions): KafkaClient {
  const { brokers, clientId, logger } = options;
  const config: KafkaConfig = {
    brokers,
    clientId,
    logLevel: kafkaLogLevelFor(logger),
    logCreator: pinoLogCreator(logger),
    connectionTimeout: options.connectionTimeoutMs ?? 3000,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    retry: {
      retries: options.retry?.retries ?? 5,
      initialRetryTime: options.retry?.initialRetryTimeMs ?? 300,
      maxRetryTime: options.retry?.maxRetryTimeMs ?? 30_000,
    },
  };
  if (options.ssl !== undefined) config.ssl = options.ssl;
  if (options.sasl !== undefined) config.sasl = options.sasl as SASLOptions;
  const kafka = new Kafka(config);

  const client: KafkaClient = {
    clientId,
    brokers: Object.freeze([...brokers]),
    logger,
    async describeCluster(opts = {}) {
      const admin = kafka.admin(
        opts.retries === undefined ? {} : { retry: { ...config.retry, retries: opts.retries } },
      );
      try {
        await admin.connect();
        const info = await admin.describeCluster();
        return { brokers: info.brokers.length, controller: info.controller, clusterId: info.clusterId };
      } catch (err) {
        throw KafkaErrors.KAFKA_UNAVAILABLE(
          { operation: 'describeCluster', reason: reasonOf(err) },
          { cause: err },
        );
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    },
  };
  KAFKAJS.set(client, kafka);
  return Object.freeze(client);
}

// The kafkajs instance of each client; module-private so it never appears on the public surface.
const KAFKAJS = new WeakMap<KafkaClient, KafkaJs>();

/**
 * The kafkajs instance behind `client`. For this package's modules only: it is not exported from
 * `src/index.ts`, and the lint rule on `kafkajs` keeps it that way.
 */
export function kafkajsOf(client: KafkaClient): KafkaJs {
  const kafka = KAFKAJS.get(client);
  if (!kafka) throw new Error('not a KafkaClient made by createKafkaClient');
  return kafka;
}

/**
 * The readiness check of a Kafka client (for `createReadiness` of `@isams-sync/metrics`): one
 * `describeCluster` without retries — a fresh admin connection that asks a broker for the cluster's
 * metadata, so it fails when no broker answers and succeeds again by itself once one does.
 */
export function kafkaReadinessCheck(client: KafkaClient): { name: 'kafka'; probe(): Promise<unknown> } {
  return { name: 'kafka', probe: () => client.describeCluster({ retries: 0 }) };
}

/** Runs `fn` with a connected admin client of `client`, disconnecting afterwards. */
export async function withAdmin<T>(client: KafkaClient, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafkajsOf(client).admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
