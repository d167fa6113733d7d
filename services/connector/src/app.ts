import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { TOPICS, dlqTopicName } from '@isams-sync/events';
import type { TopicSpec } from '@isams-sync/events';
import { createGrpcServer, loadProtoPackage, serviceKeyringFromConfig } from '@isams-sync/grpc';
import type { ConnectorServiceProtoGrpcType, GrpcServerHandle } from '@isams-sync/grpc';
import {
  createEventProducer,
  consumerGroupLag,
  createKafkaClient,
  ensureTopics,
  kafkaClientOptionsFromConfig,
  kafkaConsumerOptionsFromConfig,
  kafkaProducerOptionsFromConfig,
  kafkaReadinessCheck,
  runConsumer,
} from '@isams-sync/kafka';
import type { ConsumerHandle, EventProducer } from '@isams-sync/kafka';
import { createLogger } from '@isams-sync/logger';
import type { Logger } from '@isams-sync/logger';
import {
  consumerLagSample,
  createMetrics,
  createReadiness,
  deadLetterCounter,
  startOpsServer,
  startSampler,
} from '@isams-sync/metrics';
import type { OpsServer, Readiness, Sampler } from '@isams-sync/metrics';
import {
  LeaseKeeper,
  connectMongo,
  ensureIndexes,
  mongoLeaseStore,
  mongoReadinessCheck,
} from '@isams-sync/mongo';
import type { LeaseDocument, MongoConnection } from '@isams-sync/mongo';
import type { ConnectorConfig } from './config';
import { createKeyCipher, parsePreviousKeks } from './adapters/crypto/key-cipher';
import type { EgressPolicy } from '@isams-sync/isams';
import type { IsamsClientSettings } from './adapters/isams/batch-source';
import { RunPublisher } from './adapters/kafka/run-publisher';
import { COLLECTIONS, CONNECTOR_INDEXES } from './adapters/mongo/collections';
import { FetchPlansRepository } from './adapters/mongo/fetch-plans-repository';
import { RunsRepository } from './adapters/mongo/runs-repository';
import { SettingsAuditRepository } from './adapters/mongo/settings-audit-repository';
import { SettingsRepository } from './adapters/mongo/settings-repository';
import { AppliedSnapshotsRepository, ScheduleClaimsRepository } from './adapters/mongo/snapshots-repository';
import { CONNECTOR_CALLERS, connectorHandlers } from './handlers/grpc/connector.handlers';
import { syncRunsHandler } from './handlers/kafka/sync-runs.handler';
import { connectorMetrics } from './adapters/metrics/connector-metrics';
import { KeyVault } from './use-cases/key-vault';
import { SettingsService } from './use-cases/settings-service';
import { TestConnectionSlots } from './use-cases/test-connection-slots';
import { SyncEngine } from './use-cases/sync-engine';
import { Notifier } from './use-cases/notifier';
import { DataFreshnessRepository } from './adapters/mongo/data-freshness-repository';
import { NotificationsRepository } from './adapters/mongo/notifications-repository';
import { createSmtpMailer } from './adapters/smtp/smtp-mailer';
import type { SyncEngineDeps } from './use-cases/sync-engine';

export interface ConnectorAppOverrides {
  logger?: Logger;
  /** Replica identity (default: host name + random suffix). */
  owner?: string;
  /** TLS options for iSAMS (tests with self-signed servers). */
  isamsTls?: IsamsClientSettings['tls'];
  /** The egress guard's resolver and address classifier (tests: a local listener as a "public" host). */
  egress?: Pick<EgressPolicy, 'resolve' | 'classify'>;
  onStep?: SyncEngineDeps['onStep'];
  /** Poll interval of WatchSyncRun (default 500 ms). */
  watchPollMs?: number;
  /** The notifier's business clock (tests: a day-old school without waiting a day). */
  notifierNow?: () => Date;
}

export interface ConnectorApp {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly grpcPort: number;
  readonly opsPort: number;
  readonly engine: SyncEngine;
  readonly settings: SettingsService;
  readonly runs: RunsRepository;
  /** The e-mail notifier; undefined when SMTP_HOST is unset (notifications off). */
  readonly notifier: Notifier | undefined;
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
  const own = connectorMetrics(metrics);
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
    egress: {
      allowPrivateAddresses: config.CONNECTOR_ALLOW_PRIVATE_EGRESS,
      hostSuffixes: config.CONNECTOR_ISAMS_HOST_SUFFIXES ?? [],
      allowedPorts: config.CONNECTOR_ISAMS_PORTS,
      ...overrides.egress,
    },
  };

  let mongo: MongoConnection | undefined;
  let producer: EventProducer | undefined;
  let consumer: ConsumerHandle | undefined;
  let grpc: GrpcServerHandle | undefined;
  let ops: OpsServer | undefined;
  let readiness: Readiness | undefined;
  let sampler: Sampler | undefined;
  let engine: SyncEngine | undefined;
  let settings: SettingsService | undefined;
  let runs: RunsRepository | undefined;
  let notifier: Notifier | undefined;

  const app: ConnectorApp = {
    async start() {
      if (config.CONNECTOR_ALLOW_PRIVATE_EGRESS) {
        logger.warn(
          { CONNECTOR_ALLOW_PRIVATE_EGRESS: true },
          'private egress is ON: the connector will request private, loopback and cluster-internal iSAMS addresses (development only; never in production)',
        );
      }
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
      readiness = createReadiness({
        checks: [mongoReadinessCheck(mongo), kafkaReadinessCheck(kafka)],
        intervalMs: config.READINESS_INTERVAL_MS,
        timeoutMs: config.READINESS_TIMEOUT_MS,
        logger,
        metrics,
      });
      await readiness.start();
      runs = new RunsRepository(mongo.db);
      const settingsRepo = new SettingsRepository(mongo.db);
      const fetchPlans = new FetchPlansRepository(mongo.db);
      const keys = new KeyVault(settingsRepo, cipher, logger);
      // Before any call is served: keys stored before the host binding are bound to their address.
      await keys.bindLegacyKeys();
      const leases = new LeaseKeeper(
        mongoLeaseStore(mongo.db.collection<LeaseDocument>(COLLECTIONS.leases)),
        {
          owner,
          ttlMs: config.RUN_LEASE_TTL_MS,
          logger,
        },
      );
      const freshness = new DataFreshnessRepository(mongo.db, runs.coll);
      const notifications = new NotificationsRepository(mongo.db);
      if (config.SMTP_HOST !== undefined) {
        notifier = new Notifier(
          {
            settings: settingsRepo,
            runs,
            freshness,
            notifications,
            mailer: createSmtpMailer({
              host: config.SMTP_HOST,
              port: config.SMTP_PORT,
              tls: config.SMTP_TLS,
              ...(config.SMTP_USER === undefined ? {} : { user: config.SMTP_USER }),
              ...(config.SMTP_PASSWORD === undefined ? {} : { password: config.SMTP_PASSWORD }),
              from: config.NOTIFY_FROM,
              timeoutMs: config.SMTP_TIMEOUT_MS,
            }),
            logger: logger.child({ module: 'notifier' }),
          },
          {
            owner,
            failureStreak: config.NOTIFY_FAILURE_STREAK,
            staleAfterMs: config.NOTIFY_STALE_AFTER_MS,
            checkIntervalMs: config.NOTIFY_CHECK_INTERVAL_MS,
            ...(config.DASHBOARD_URL === undefined ? {} : { dashboardUrl: config.DASHBOARD_URL }),
            ...(overrides.notifierNow ? { now: overrides.notifierNow } : {}),
          },
        );
      }
      settings = new SettingsService(
        settingsRepo,
        keys,
        {
          allowInsecureLoopback: config.ISAMS_ALLOW_INSECURE_LOOPBACK,
          scheduleJitterMs: config.SCHEDULE_JITTER_MS,
          egressIps: config.EGRESS_IPS ?? [],
          isams,
          contactsMethods: config.ISAMS_CONTACTS_METHODS,
        },
        logger,
        fetchPlans,
        new SettingsAuditRepository(mongo.db),
        new TestConnectionSlots(leases, config.CONNECTOR_MAX_CONCURRENT_TESTS),
      );
      engine = new SyncEngine(
        {
          settings: settingsRepo,
          runs,
          snapshots: new AppliedSnapshotsRepository(mongo.db),
          claims: new ScheduleClaimsRepository(mongo.db),
          fetchPlans,
          leases,
          keys,
          freshness,
          publisher: new RunPublisher(producer, {
            rawDatasets: config.RAW_DATASETS_TOPIC,
            syncRuns: config.SYNC_RUNS_TOPIC,
          }),
          logger,
          observe: own.observer,
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
          egressIps: config.EGRESS_IPS ?? [],
        },
      );
      consumer = await runConsumer({
        client: kafka,
        ...kafkaConsumerOptionsFromConfig(config),
        groupId: config.SYNC_RUNS_GROUP_ID,
        topics: [config.SYNC_RUNS_TOPIC],
        handler: syncRunsHandler(engine, notifier, own.runEnded),
        onDeadLettered: deadLetterCounter(metrics),
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
        readiness,
        services: [
          {
            name: 'isams_sync.connector.v1.ConnectorService',
            definition: pkg.isams_sync.connector.v1.ConnectorService.service,
            implementation: connectorHandlers({
              settings,
              engine,
              runs,
              freshness,
              notifications,
              watchPollMs: overrides.watchPollMs ?? 500,
            }),
            callers: CONNECTOR_CALLERS,
          },
        ],
      });
      const settingsColl = settingsRepo.coll;
      sampler = startSampler({
        intervalMs: config.METRICS_SAMPLE_INTERVAL_MS,
        logger,
        samples: [
          consumerLagSample(metrics, config.SYNC_RUNS_GROUP_ID, () =>
            consumerGroupLag(kafka, config.SYNC_RUNS_GROUP_ID, [config.SYNC_RUNS_TOPIC], {
              fromBeginning: false,
            }),
          ),
          own.schoolsSample({
            dataAsOf: () => freshness.enabledSchoolsDataAsOf(settingsColl),
            staleAfterMs: config.NOTIFY_STALE_AFTER_MS,
          }),
        ],
      });
      const ready = readiness;
      ops = await startOpsServer({
        port: config.OPS_PORT,
        metrics,
        logger,
        readiness: () => ready.isReady(),
      });
      await engine.start();
      notifier?.start();
      // The state of e-mail notifications is stated at start (the host, never the user or password).
      if (config.SMTP_HOST === undefined) logger.info('e-mail notifications off: SMTP_HOST is not set');
      else
        logger.info(
          { smtpHost: config.SMTP_HOST, smtpPort: config.SMTP_PORT, smtpTls: config.SMTP_TLS },
          'e-mail notifications on',
        );
      logger.info({ grpcPort: grpc.port, opsPort: ops.port, owner }, 'connector started');
    },
    async stop() {
      const deadline = config.SHUTDOWN_TIMEOUT_MS;
      readiness?.stop();
      // Not awaited: a sample waiting on an unreachable broker must not hold the shutdown up.
      void sampler?.stop();
      await grpc?.shutdown(Math.min(2_000, deadline));
      await engine?.stop(Math.max(0, deadline - 2_000));
      await consumer?.stop().catch(() => undefined);
      await notifier?.stop().catch(() => undefined);
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
    get notifier() {
      return notifier;
    },
  };
  return app;
}
