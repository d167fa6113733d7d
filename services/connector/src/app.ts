import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { TOPICS, dlqTopicName } from '@isams-sync/events';
import type { TopicSpec } from '@isams-sync/events';
import { createGrpcServer, loadProtoPackage, serviceKeyringFromConfig } from '@isams-sync/grpc';
import type { ConnectorServiceProtoGrpcType, GrpcServerHandle } from '@isams-sync/grpc';
import {
  createEventProducer,
  createKafkaClient,
  ensureTopics,
  kafkaClientOptionsFromConfig,
  kafkaConsumerOptionsFromConfig,
  kafkaProducerOptionsFromConfig,
  runConsumer,
} from '@isams-sync/kafka';
import type { ConsumerHandle, EventProducer } from '@isams-sync/kafka';
import { createLogger } from '@isams-sync/logger';
import type { Logger } from '@isams-sync/logger';
import { createMetrics, startOpsServer } from '@isams-sync/metrics';
import type { OpsServer } from '@isams-sync/metrics';
import { LeaseKeeper, connectMongo, ensureIndexes, mongoLeaseStore } from '@isams-sync/mongo';
import type { LeaseDocument, MongoConnection } from '@isams-sync/mongo';
import type { ConnectorConfig } from './config';
import { createKeyCipher, parsePreviousKeks } from './adapters/crypto/key-cipher';
import type { IsamsClientSettings } from './adapters/isams/batch-source';
import { RunPublisher } from './adapters/kafka/run-publisher';
import { COLLECTIONS, CONNECTOR_INDEXES } from './adapters/mongo/collections';
import { FetchPlansRepository } from './adapters/mongo/fetch-plans-repository';
import { RunsRepository } from './adapters/mongo/runs-repository';
import { SettingsRepository } from './adapters/mongo/settings-repository';
import { AppliedSnapshotsRepository, ScheduleClaimsRepository } from './adapters/mongo/snapshots-repository';
import { CONNECTOR_CALLERS, connectorHandlers } from './handlers/grpc/connector.handlers';
import { syncRunsHandler } from './handlers/kafka/sync-runs.handler';
import { SettingsService } from './use-cases/settings-service';
import { SyncEngine } from './use-cases/sync-engine';
import type { SyncEngineDeps } from './use-cases/sync-engine';

export interface ConnectorAppOverrides {
  logger?: Logger;
  /** Replica identity (default: host name + random suffix). */
  owner?: string;
  /** TLS options for iSAMS (tests with self-signed servers). */
  isamsTls?: IsamsClientSettings['tls'];
  onStep?: SyncEngineDeps['onStep'];
  /** Poll interval of WatchSyncRun (default 500 ms). */
  watchPollMs?: number;
}

export interface ConnectorApp {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly grpcPort: number;
  readonly opsPort: number;
  readonly engine: SyncEngine;
  readonly settings: SettingsService;
  readonly runs: RunsRepository;
}

/** Topic specs for the configured names (tests use unique names; production the declared ones). */
function topicSpecs(config: ConnectorConfig): TopicSpec[] {
  const declared = (name: string) => TOPICS.find((t) => t.name === name)!;
  const raw = { ...declared('isams.raw-datasets.v1'), name: config.RAW_DATASETS_TOPIC };
  const runs = { ...declared('sync.runs.v1'), name: config.SYNC_RUNS_TOPIC };
  const runsDlq = { ...declared(dlqTopicName('sync.runs.v1')), name: dlqTopicName(config.SYNC_RUNS_TOPIC) };
  return [raw, runs, runsDlq];
}

/** Composition root of the connector. */
export function createConnectorApp(
  config: ConnectorConfig,
  overrides: ConnectorAppOverrides = {},
): ConnectorApp {
  const logger =
    overrides.logger ??
    createLogger({ service: config.SERVICE_NAME ?? 'connector', level: config.LOG_LEVEL });
  const owner = overrides.owner ?? `${hostname()}-${randomBytes(4).toString('hex')}`;
  const metrics = createMetrics({ service: 'connector' });
  const identity = serviceKeyringFromConfig(config, 'connector');
  const cipher = createKeyCipher(
    { id: config.CONNECTOR_KEK_ID, key: config.CONNECTOR_KEK },
    parsePreviousKeks(config.CONNECTOR_KEK_PREVIOUS),
  );
  const isams: IsamsClientSettings = {
    ...(config.EGRESS_PROXY_URL ? { proxyUrl: config.EGRESS_PROXY_URL } : {}),
    connectTimeoutMs: config.ISAMS_CONNECT_TIMEOUT_MS,
    readTimeoutMs: config.ISAMS_READ_TIMEOUT_MS,
    totalTimeoutMs: config.ISAMS_TOTAL_TIMEOUT_MS,
    maxBytes: config.ISAMS_MAX_BYTES,
    parserLimits: {
      maxDepth: config.ISAMS_MAX_DEPTH,
      maxRecordBytes: config.ISAMS_MAX_RECORD_BYTES,
      maxRecordsPerDataset: config.ISAMS_MAX_RECORDS_PER_DATASET,
      maxRecordsPerDocument: config.ISAMS_MAX_RECORDS_PER_DOCUMENT,
    },
    retry: {
      maxAttempts: config.ISAMS_RETRY_ATTEMPTS,
      baseDelayMs: config.ISAMS_RETRY_BASE_MS,
      maxDelayMs: config.ISAMS_RETRY_MAX_MS,
    },
    ...(overrides.isamsTls ? { tls: overrides.isamsTls } : {}),
  };

  let mongo: MongoConnection | undefined;
  let producer: EventProducer | undefined;
  let consumer: ConsumerHandle | undefined;
  let grpc: GrpcServerHandle | undefined;
  let ops: OpsServer | undefined;
  let engine: SyncEngine | undefined;
  let settings: SettingsService | undefined;
  let runs: RunsRepository | undefined;

  const app: ConnectorApp = {
    async start() {
      mongo = await connectMongo({
        url: config.MONGO_URL,
        dbName: config.MONGO_DB,
        logger,
        appName: 'connector',
      });
      await ensureIndexes(mongo.db, CONNECTOR_INDEXES);
      const kafka = createKafkaClient(kafkaClientOptionsFromConfig(config, { service: 'connector', logger }));
      if (config.KAFKA_ENSURE_TOPICS) {
        await ensureTopics(kafka, topicSpecs(config), {
          replicationFactor: config.KAFKA_TOPIC_REPLICATION_FACTOR,
          logger,
          onMismatch: 'warn',
        });
      }
      producer = createEventProducer(kafka, {
        logger,
        ...kafkaProducerOptionsFromConfig(config),
      });
      await producer.connect();
      runs = new RunsRepository(mongo.db);
      const settingsRepo = new SettingsRepository(mongo.db);
      const fetchPlans = new FetchPlansRepository(mongo.db);
      settings = new SettingsService(
        settingsRepo,
        cipher,
        {
          allowInsecureLoopback: config.ISAMS_ALLOW_INSECURE_LOOPBACK,
          scheduleJitterMs: config.SCHEDULE_JITTER_MS,
          egressIps: config.EGRESS_IPS ?? [],
          isams,
          contactsMethods: config.ISAMS_CONTACTS_METHODS,
        },
        logger,
        fetchPlans,
      );
      engine = new SyncEngine(
        {
          settings: settingsRepo,
          runs,
          snapshots: new AppliedSnapshotsRepository(mongo.db),
          claims: new ScheduleClaimsRepository(mongo.db),
          fetchPlans,
          leases: new LeaseKeeper(mongoLeaseStore(mongo.db.collection<LeaseDocument>(COLLECTIONS.leases)), {
            owner,
            ttlMs: config.RUN_LEASE_TTL_MS,
            logger,
          }),
          cipher,
          publisher: new RunPublisher(producer, {
            rawDatasets: config.RAW_DATASETS_TOPIC,
            syncRuns: config.SYNC_RUNS_TOPIC,
          }),
          logger,
          ...(overrides.onStep ? { onStep: overrides.onStep } : {}),
        },
        {
          owner,
          concurrency: config.SYNC_CONCURRENCY,
          leaseTtlMs: config.RUN_LEASE_TTL_MS,
          schedulerTickMs: config.SCHEDULER_TICK_MS,
          schedulerEnabled: config.SCHEDULER_ENABLED,
          staleSweepIntervalMs: config.STALE_SWEEP_INTERVAL_MS,
          scheduleJitterMs: config.SCHEDULE_JITTER_MS,
          manualTriggerLimit: config.MANUAL_TRIGGER_LIMIT,
          manualTriggerWindowMs: config.MANUAL_TRIGGER_WINDOW_MS,
          maxChunkBytes: config.MAX_CHUNK_BYTES,
          spoolDir: config.SPOOL_DIR,
          spoolQuotaBytes: config.CONNECTOR_SPOOL_QUOTA_BYTES,
          progressIntervalMs: config.PROGRESS_INTERVAL_MS,
          isams,
          contactsMethods: config.ISAMS_CONTACTS_METHODS,
        },
      );
      consumer = await runConsumer({
        client: kafka,
        ...kafkaConsumerOptionsFromConfig(config),
        groupId: config.SYNC_RUNS_GROUP_ID,
        topics: [config.SYNC_RUNS_TOPIC],
        handler: syncRunsHandler(engine),
        logger,
      });
      const pkg = loadProtoPackage<ConnectorServiceProtoGrpcType>(
        'isams_sync/connector/v1/connector_service.proto',
        config.PROTOS_DIR ? { protosDir: config.PROTOS_DIR } : {},
      );
      grpc = await createGrpcServer({
        logger,
        port: config.GRPC_PORT,
        identity,
        reflection: config.GRPC_REFLECTION,
        services: [
          {
            name: 'isams_sync.connector.v1.ConnectorService',
            definition: pkg.isams_sync.connector.v1.ConnectorService.service,
            implementation: connectorHandlers({
              settings,
              engine,
              runs,
              watchPollMs: overrides.watchPollMs ?? 500,
            }),
            callers: CONNECTOR_CALLERS,
          },
        ],
      });
      const db = mongo;
      ops = await startOpsServer({ port: config.OPS_PORT, metrics, logger, readiness: () => db.ping() });
      await engine.start();
      logger.info({ grpcPort: grpc.port, opsPort: ops.port, owner }, 'connector started');
    },
    async stop() {
      const deadline = config.SHUTDOWN_TIMEOUT_MS;
      await grpc?.shutdown(Math.min(2_000, deadline));
      await engine?.stop(Math.max(0, deadline - 2_000));
      await consumer?.stop().catch(() => undefined);
      await producer?.disconnect().catch(() => undefined);
      await ops?.close().catch(() => undefined);
      await mongo?.close();
    },
    get grpcPort() {
      return grpc?.port ?? 0;
    },
    get opsPort() {
      return ops?.port ?? 0;
    },
    get engine() {
      if (!engine) throw new Error('connector not started');
      return engine;
    },
    get settings() {
      if (!settings) throw new Error('connector not started');
      return settings;
    },
    get runs() {
      if (!runs) throw new Error('connector not started');
      return runs;
    },
  };
  return app;
}
