import type { CommonServiceConfig } from '@isams-sync/config';
import type { TopicSpec } from '@isams-sync/events';
import { createKafkaClient, kafkaClientOptionsFromConfig, serviceBroker } from '@isams-sync/kafka';
import type { EventProducer, KafkaClient, KafkaServiceConfig, ServiceBrokerOptions } from '@isams-sync/kafka';
import type { Logger } from '@isams-sync/logger';
import { startOpsServer } from '@isams-sync/metrics';
import type { Metrics, OpsServer } from '@isams-sync/metrics';
import { connectMongo, ensureIndexes, mongoOptionsFromConfig } from '@isams-sync/mongo';
import type { CollectionIndexSpec, MongoConnection, MongoServiceConfig } from '@isams-sync/mongo';
import { isRetryableAtStart, untilReachable, untilStepDone } from './service-start';
import type { StartGate } from './service-start';

/**
 * The shell's parts of a running service, each set as soon as it exists, so the service's `stop()`
 * closes what a start that failed half-way had opened (a service's own `Running` record has these
 * fields beside its own).
 */
export interface ServiceInfraParts {
  mongo?: MongoConnection;
  /** The broker client (made before it answers: readiness probes it from the start). */
  kafka?: KafkaClient;
  producer?: EventProducer;
  readiness?: StartGate;
  /** Aborted by the stop: a start still waiting for its dependencies gives up at once. */
  abortStart?: AbortController;
}

/** Options of {@link connectServiceDatabase}. */
export interface ServiceDatabaseOptions {
  /** The service's name: the connection's `appName`. */
  service: string;
  logger: Logger;
  /** Where the connection is recorded the moment it exists. */
  parts: Pick<ServiceInfraParts, 'mongo' | 'abortStart' | 'readiness'>;
  /** The service's indexes, ensured right after connecting. */
  indexes?: CollectionIndexSpec[];
  /** The service's own set-up of the database (its stores), right after connecting (and the indexes). */
  prepare?: (mongo: MongoConnection) => Promise<void>;
}

/**
 * The service's database: `connectMongo(mongoOptionsFromConfig(…))`, its indexes, its stores —
 * tried again (libs/service-shell `untilReachable`) while the database is unreachable; a failure
 * no retry fixes (a refused credential, an index or a migration the database refuses) is thrown.
 */
export function connectServiceDatabase(
  config: MongoServiceConfig,
  opts: ServiceDatabaseOptions,
): Promise<MongoConnection> {
  const { service, logger, parts } = opts;
  return untilReachable(
    'mongo',
    async () => {
      const mongo = (parts.mongo = await connectMongo(
        mongoOptionsFromConfig(config, { appName: service, logger }),
      ));
      try {
        if (opts.indexes !== undefined) await ensureIndexes(mongo.db, opts.indexes);
        await opts.prepare?.(mongo);
        return mongo;
      } catch (err) {
        if (isRetryableAtStart(err)) {
          parts.mongo = undefined;
          await mongo.close();
        }
        throw err;
      }
    },
    { logger, signal: parts.abortStart?.signal, readiness: parts.readiness },
  );
}

/** Where {@link serviceStartStep} finds the service's stop and readiness. */
export interface ServiceStartStepOptions {
  logger: Logger;
  parts: Pick<ServiceInfraParts, 'abortStart' | 'readiness'>;
}

/**
 * A step of the service's start after {@link startServiceInfra} (a migration, the binding of legacy
 * keys, a consumer's first join), tried again while MongoDB or Kafka, lost meanwhile, is unreachable
 * (`untilStepDone`: the same back-off and warn line as the first connection, with the `step`), given
 * up at once by the service's stop. `run` must be idempotent.
 */
export function serviceStartStep<T>(
  step: string,
  run: () => Promise<T>,
  opts: ServiceStartStepOptions,
): Promise<T> {
  const { parts } = opts;
  return untilStepDone(step, run, {
    logger: opts.logger,
    signal: parts.abortStart?.signal,
    readiness: parts.readiness,
  });
}

/** Options of {@link startServiceInfra}. */
export interface ServiceInfraOptions extends Omit<ServiceDatabaseOptions, 'parts'> {
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
  /** Its probes run; ready once the service opens it ({@link StartGate.open}, `serviceStarted`). */
  readiness: StartGate;
}

/** The environment {@link startServiceInfra} reads. */
export type ServiceInfraConfig = MongoServiceConfig &
  KafkaServiceConfig &
  Pick<CommonServiceConfig, 'READINESS_INTERVAL_MS' | 'READINESS_TIMEOUT_MS'>;

/** The service's broker client from its environment (no connection yet). */
export function serviceKafkaClient(config: KafkaServiceConfig, service: string, logger: Logger): KafkaClient {
  return createKafkaClient(kafkaClientOptionsFromConfig(config, { service, logger }));
}

/**
 * A back-end service's infrastructure, after `openServiceHealth` (its readiness, ops and gRPC health
 * listening, not ready): the database ({@link connectServiceDatabase}), then the broker (libs/kafka
 * `serviceBroker`: topics, connected producer), each tried again with back-off while unreachable
 * (`untilReachable`, which starts the readiness probes at the first failed attempt), then readiness
 * started (its first round run). Each part is recorded in `opts.parts` as soon as it exists.
 */
export async function startServiceInfra(
  config: ServiceInfraConfig,
  opts: ServiceInfraOptions,
): Promise<ServiceInfra> {
  const { service, logger, parts } = opts;
  const readiness = parts.readiness;
  if (readiness === undefined) throw new Error(`${service}: openServiceHealth before startServiceInfra`);
  const mongo = await connectServiceDatabase(config, opts);
  const kafka = (parts.kafka ??= serviceKafkaClient(config, service, logger));
  const { producer } = await untilReachable(
    'kafka',
    () =>
      serviceBroker(config, {
        service,
        logger,
        kafka,
        topics: opts.topics,
        onTopicMismatch: opts.onTopicMismatch,
        ...(opts.producer === undefined ? {} : { producer: opts.producer }),
        onProducer: (p) => {
          // The producer of an attempt that failed to connect is let go before the next one.
          void parts.producer?.disconnect().catch(() => undefined);
          parts.producer = p;
        },
      }),
    { logger, signal: parts.abortStart?.signal, readiness },
  );
  // Its first round now that both answer (already probing when the start had to wait).
  await readiness.start();
  return { mongo, kafka, producer, readiness };
}

/** The ops server (`/metrics`, `/health`, `/ready` on `OPS_PORT`), ready while `readiness` is. */
export function startServiceOps(
  config: Pick<CommonServiceConfig, 'OPS_PORT'>,
  opts: { metrics: Metrics; logger: Logger; readiness: Pick<StartGate, 'isReady'> },
): Promise<OpsServer> {
  const { readiness } = opts;
  return startOpsServer({
    port: config.OPS_PORT,
    metrics: opts.metrics,
    logger: opts.logger,
    readiness: () => readiness.isReady(),
  });
}
