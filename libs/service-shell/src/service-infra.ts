import type { CommonServiceConfig } from '@isams-sync/config';
import type { TopicSpec } from '@isams-sync/events';
import { kafkaReadinessCheck, serviceBroker } from '@isams-sync/kafka';
import type { EventProducer, KafkaClient, KafkaServiceConfig, ServiceBrokerOptions } from '@isams-sync/kafka';
import type { Logger } from '@isams-sync/logger';
import { readinessFromConfig, startOpsServer } from '@isams-sync/metrics';
import type { Metrics, OpsServer, Readiness } from '@isams-sync/metrics';
import { connectMongo, ensureIndexes, mongoOptionsFromConfig, mongoReadinessCheck } from '@isams-sync/mongo';
import type { CollectionIndexSpec, MongoConnection, MongoServiceConfig } from '@isams-sync/mongo';

/**
 * The shell's parts of a running service, each set as soon as it exists, so the service's `stop()`
 * closes what a start that failed half-way had opened (a service's own `Running` record has these
 * fields beside its own).
 */
export interface ServiceInfraParts {
  mongo?: MongoConnection;
  producer?: EventProducer;
  readiness?: Readiness;
}

/** Options of {@link connectServiceDatabase}. */
export interface ServiceDatabaseOptions {
  /** The service's name: the connection's `appName`. */
  service: string;
  logger: Logger;
  /** Where the connection is recorded the moment it exists. */
  parts: Pick<ServiceInfraParts, 'mongo'>;
  /** The service's indexes, ensured right after connecting. */
  indexes?: CollectionIndexSpec[];
  /** The service's own set-up of the database (its stores), right after connecting (and the indexes). */
  prepare?: (mongo: MongoConnection) => Promise<void>;
}

/** The service's database: `connectMongo(mongoOptionsFromConfig(…))`, its indexes, its stores. */
export async function connectServiceDatabase(
  config: MongoServiceConfig,
  opts: ServiceDatabaseOptions,
): Promise<MongoConnection> {
  const { service, logger } = opts;
  const mongo = (opts.parts.mongo = await connectMongo(
    mongoOptionsFromConfig(config, { appName: service, logger }),
  ));
  if (opts.indexes !== undefined) await ensureIndexes(mongo.db, opts.indexes);
  await opts.prepare?.(mongo);
  return mongo;
}

/** Options of {@link startServiceInfra}. */
export interface ServiceInfraOptions extends Omit<ServiceDatabaseOptions, 'parts'> {
  metrics: Metrics;
  /** Where the database, the producer and readiness are recorded as they come up. */
  parts: ServiceInfraParts;
  /** The service's topics (libs/kafka `serviceBroker`). */
  topics: readonly TopicSpec[];
  onTopicMismatch: ServiceBrokerOptions['onTopicMismatch'];
  /** Producer settings beyond the environment's. */
  producer?: ServiceBrokerOptions['producer'];
}

/** What {@link startServiceInfra} brings up. */
export interface ServiceInfra {
  mongo: MongoConnection;
  kafka: KafkaClient;
  producer: EventProducer;
  /** Started: its first round of probes has run. */
  readiness: Readiness;
}

/** The environment {@link startServiceInfra} reads. */
export type ServiceInfraConfig = MongoServiceConfig &
  KafkaServiceConfig &
  Pick<CommonServiceConfig, 'READINESS_INTERVAL_MS' | 'READINESS_TIMEOUT_MS'>;

/**
 * A back-end service's infrastructure, in this order: the database ({@link connectServiceDatabase}),
 * the broker (libs/kafka `serviceBroker`: client, topics, connected producer), then readiness over
 * both (MongoDB and Kafka only: the services a service calls are no readiness dependency — their
 * outage fails those calls, not the service), started. Each part is recorded in `opts.parts` as
 * soon as it exists.
 */
export async function startServiceInfra(
  config: ServiceInfraConfig,
  opts: ServiceInfraOptions,
): Promise<ServiceInfra> {
  const { service, logger, parts } = opts;
  const mongo = await connectServiceDatabase(config, opts);
  const { kafka, producer } = await serviceBroker(config, {
    service,
    logger,
    topics: opts.topics,
    onTopicMismatch: opts.onTopicMismatch,
    ...(opts.producer === undefined ? {} : { producer: opts.producer }),
    onProducer: (p) => (parts.producer = p),
  });
  const readiness = (parts.readiness = readinessFromConfig(config, {
    checks: [mongoReadinessCheck(mongo), kafkaReadinessCheck(kafka)],
    logger,
    metrics: opts.metrics,
  }));
  await readiness.start();
  return { mongo, kafka, producer, readiness };
}

/** The ops server (`/metrics`, `/health`, `/ready` on `OPS_PORT`), ready while `readiness` is. */
export function startServiceOps(
  config: Pick<CommonServiceConfig, 'OPS_PORT'>,
  opts: { metrics: Metrics; logger: Logger; readiness: Readiness },
): Promise<OpsServer> {
  const { readiness } = opts;
  return startOpsServer({
    port: config.OPS_PORT,
    metrics: opts.metrics,
    logger: opts.logger,
    readiness: () => readiness.isReady(),
  });
}
