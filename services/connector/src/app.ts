import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { TopicNames, topicsAs } from '@isams-sync/events';
import type { TopicSpec } from '@isams-sync/events';
import type { ConnectorServiceProtoGrpcType, GrpcServerHandle, ServiceKeyring } from '@isams-sync/grpc';
import type { ConsumerHandle, EventProducer, KafkaClient } from '@isams-sync/kafka';
import type { Logger } from '@isams-sync/logger';
import type { Metrics, OpsServer, Sampler } from '@isams-sync/metrics';
import { LeaseKeeper, mongoLeaseStore } from '@isams-sync/mongo';
import type { LeaseDocument, MongoConnection } from '@isams-sync/mongo';
import * as shell from '@isams-sync/service-shell';
import type { ConnectorConfig } from './config';
import { createKeyCipher, parsePreviousKeks } from './adapters/crypto/key-cipher';
import type { KeyCipher } from './adapters/crypto/key-cipher';
import { ISAMS_READER_VERSION } from '@isams-sync/isams';
import type { EgressPolicy, ParserLimits } from '@isams-sync/isams';
import { IsamsBatchSource } from './adapters/isams/batch-source';
import { ParseWorkerPool } from './adapters/isams/parse-workers';
import type { IsamsClientSettings } from './adapters/isams/batch-source';
import { KafkaRunPublisher } from './adapters/kafka/run-publisher';
import { COLLECTIONS, CONNECTOR_INDEXES } from './adapters/mongo/collections';
import { FetchPlansRepository } from './adapters/mongo/fetch-plans-repository';
import { MongoRunLeases } from './adapters/mongo/run-leases';
import { RunsRepository } from './adapters/mongo/runs-repository';
import { SettingsAuditRepository } from './adapters/mongo/settings-audit-repository';
import { ScheduleRepository } from './adapters/mongo/schedule-repository';
import { SettingsRepository } from './adapters/mongo/settings-repository';
import { AppliedSnapshotsRepository, ScheduleClaimsRepository } from './adapters/mongo/snapshots-repository';
import { CONNECTOR_CALLERS, connectorHandlers } from './handlers/grpc/connector.handlers';
import { CANONICAL_JSON_VERSION } from './domain/canonical-json';
import { readingOf } from './domain/sync-run';
import { RunChanges } from './handlers/grpc/run-changes';
import { syncRunsHandler } from './handlers/kafka/sync-runs.handler';
import { connectorMetrics } from './adapters/metrics/connector-metrics';
import { KeyVault } from './use-cases/key-vault';
import { SettingsService } from './use-cases/settings-service';
import { TestConnectionSlots } from './use-cases/test-connection-slots';
import { SyncEngine } from './use-cases/sync-engine';
import { Notifier } from './use-cases/notifier';
import { RunRetention } from './use-cases/run-retention';
import { DataFreshnessRepository } from './adapters/mongo/data-freshness-repository';
import { NotificationsRepository } from './adapters/mongo/notifications-repository';
import { createSmtpMailer } from './adapters/smtp/smtp-mailer';
import { FileSpools } from './adapters/spool/run-spool';
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
  /**
   * How often WatchSyncRun re-reads a run at the least (default 500 ms): it wakes at once on this
   * replica's writes of the run, the poll catches another replica's.
   */
  watchPollMs?: number;
  /** The notifier's business clock (tests: a day-old school without waiting a day). */
  notifierNow?: () => Date;
  /** How often the retention prunes (default hourly; tests: sooner). */
  retentionIntervalMs?: number;
}

export interface ConnectorApp extends shell.BackendServiceApp {
  readonly engine: SyncEngine;
  readonly settings: SettingsService;
  readonly runs: RunsRepository;
  /** The e-mail notifier; undefined when SMTP_HOST is unset (notifications off). */
  readonly notifier: Notifier | undefined;
}

/** Topic specs for the configured names (tests use unique names; production the declared ones). */
function topicSpecs(config: ConnectorConfig): TopicSpec[] {
  return topicsAs([
    { declared: TopicNames.rawDatasets, name: config.RAW_DATASETS_TOPIC },
    { declared: TopicNames.syncRuns, name: config.SYNC_RUNS_TOPIC, withDlq: true },
  ]);
}

/** What every wiring step of one connector instance shares (made once, when the app is created). */
interface Wiring {
  readonly config: ConnectorConfig;
  readonly overrides: ConnectorAppOverrides;
  readonly logger: Logger;
  /** Replica identity: the owner of the runs and leases this instance takes. */
  readonly owner: string;
  readonly metrics: Metrics;
  readonly own: ReturnType<typeof connectorMetrics>;
  readonly identity: ServiceKeyring;
  readonly cipher: KeyCipher;
  readonly isams: IsamsClientSettings;
}

/** What `start` has brought up so far: `stop` closes exactly that, also after a start that failed half-way. */
interface Running {
  mongo?: MongoConnection;
  /** The documents' parse threads (none with CONNECTOR_PARSE_WORKERS=0). */
  parsers?: ParseWorkerPool;
  kafka?: KafkaClient;
  producer?: EventProducer;
  readiness?: shell.StartGate;
  abortStart?: AbortController;
  runs?: RunsRepository;
  notifier?: Notifier;
  retention?: RunRetention;
  settings?: SettingsService;
  engine?: SyncEngine;
  consumer?: ConsumerHandle;
  grpc?: GrpcServerHandle;
  sampler?: Sampler;
  ops?: OpsServer;
}

/** The use-cases and the repositories the handlers and samplers read. */
interface UseCases {
  readonly settingsRepo: SettingsRepository;
  readonly runs: RunsRepository;
  readonly freshness: DataFreshnessRepository;
  readonly notifications: NotificationsRepository;
  /** The address-change audit (written by the settings service, pruned by the retention). */
  readonly settingsAudit: SettingsAuditRepository;
  readonly settings: SettingsService;
  readonly engine: SyncEngine;
  readonly notifier: Notifier | undefined;
  /** Hears the runs' writes for their live views. */
  readonly runChanges: RunChanges;
}

/** Composition root of the connector. */
export function createConnectorApp(
  config: ConnectorConfig,
  overrides: ConnectorAppOverrides = {},
): ConnectorApp {
  const { logger, identity, metrics } = shell.serviceBasics(config, 'connector', overrides.logger);
  const owner = overrides.owner ?? `${hostname()}-${randomBytes(4).toString('hex')}`;
  const w: Wiring = {
    config,
    overrides,
    logger,
    owner,
    metrics,
    own: connectorMetrics(metrics),
    identity,
    cipher: createKeyCipher(
      { id: config.CONNECTOR_KEK_ID, key: config.CONNECTOR_KEK },
      parsePreviousKeks(config.CONNECTOR_KEK_PREVIOUS),
    ),
    isams: isamsClientSettings(config, overrides),
  };
  const running: Running = {};
  return shell.serviceApp(
    'connector',
    running,
    {
      start: () => startConnector(w, running),
      stop: () => stopConnector(config, running, logger),
      get notifier() {
        return running.notifier;
      },
    },
    ['engine', 'settings', 'runs'],
  );
}

/** The parser limits of the configuration (libs/isams `ParserLimits`). */
function parserLimitsOf(config: ConnectorConfig): ParserLimits {
  return {
    maxDepth: config.ISAMS_MAX_DEPTH,
    maxRecordBytes: config.ISAMS_MAX_RECORD_BYTES,
    maxRecordsPerDataset: config.ISAMS_MAX_RECORDS_PER_DATASET,
    maxRecordsPerDocument: config.ISAMS_MAX_RECORDS_PER_DOCUMENT,
  };
}

/** How the connector talks to iSAMS: timeouts, size and parser limits, retries, the egress guard. */
function isamsClientSettings(config: ConnectorConfig, overrides: ConnectorAppOverrides): IsamsClientSettings {
  return {
    ...(config.EGRESS_PROXY_URL ? { proxyUrl: config.EGRESS_PROXY_URL } : {}),
    connectTimeoutMs: config.ISAMS_CONNECT_TIMEOUT_MS,
    readTimeoutMs: config.ISAMS_READ_TIMEOUT_MS,
    totalTimeoutMs: config.ISAMS_TOTAL_TIMEOUT_MS,
    maxBytes: config.ISAMS_MAX_BYTES,
    readAheadBytes: config.ISAMS_READ_AHEAD_BYTES,
    parserLimits: parserLimitsOf(config),
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
}

// ---- start and stop -----------------------------------------------------------------------------

/**
 * Health first (ops and gRPC health listening, not ready), then database and broker, use-cases (legacy
 * keys bound, schedules reconciled), the sync-runs consumer (up to its first join), the
 * ConnectorService and the samplers; the engine's and the notifier's background work last, then
 * ready. Each step waits while the dependency it needs is unreachable, also one lost after the first
 * connection.
 */
async function startConnector(w: Wiring, r: Running): Promise<void> {
  const { config, logger } = w;
  if (config.CONNECTOR_ALLOW_PRIVATE_EGRESS) {
    logger.warn(
      { CONNECTOR_ALLOW_PRIVATE_EGRESS: true },
      'private egress is ON: the connector will request private, loopback and cluster-internal iSAMS addresses (development only; never in production)',
    );
  }
  await shell.openServiceHealth(config, {
    ...w,
    service: 'connector',
    parts: r,
    kafka: { config },
    grpc: { config, identity: w.identity },
  });
  const { mongo, kafka, producer } = await shell.startServiceInfra(config, {
    service: 'connector',
    logger,
    parts: r,
    indexes: CONNECTOR_INDEXES,
    topics: topicSpecs(config),
    onTopicMismatch: 'warn',
  });
  if (config.CONNECTOR_PARSE_WORKERS > 0)
    r.parsers = new ParseWorkerPool(config.CONNECTOR_PARSE_WORKERS, logger);
  const core = await buildUseCases(w, r, mongo, producer);
  await shell.startServiceConsumer(
    {
      ...shell.serviceConsumerOptions(config, { ...w, kafka, group: syncRunsGroup(config) }),
      handler: syncRunsHandler(core.engine, core.notifier, w.own.runEnded),
    },
    { logger, parts: r },
  );
  serveGrpc(w, r.grpc!, core);
  r.sampler = startMetricsSampler(w, kafka, core);
  // Its queue restored and leftover spools removed (idempotent) before its timers start.
  await shell.serviceStartStep('sync engine', () => core.engine.start(), { logger, parts: r });
  core.notifier?.start();
  r.retention = new RunRetention(
    { runs: core.runs, settingsAudit: core.settingsAudit, notifications: core.notifications },
    logger.child({ module: 'run-retention' }),
    {
      historyMs: config.RUN_HISTORY_DAYS * DAY_MS,
      auditMs: config.AUDIT_RETENTION_DAYS * DAY_MS,
      intervalMs: w.overrides.retentionIntervalMs ?? RUN_RETENTION_INTERVAL_MS,
    },
  );
  r.retention.start();
  logNotificationsState(config, logger);
  shell.serviceStarted(r);
  logger.info({ grpcPort: r.grpc!.port, opsPort: r.ops!.port, owner: w.owner }, 'connector started');
}

/** How often each replica drops what is past its retention (use-cases/run-retention). */
const RUN_RETENTION_INTERVAL_MS = 60 * 60_000;
const DAY_MS = 24 * 3_600_000;

/**
 * The gRPC server, the engine's runs (the rest of the deadline), then consumer, notifier, producer,
 * ops server, database (libs/service-shell `stopService`).
 */
async function stopConnector(config: ConnectorConfig, r: Running, logger: Logger): Promise<void> {
  const deadline = config.SHUTDOWN_TIMEOUT_MS;
  await shell.stopService(logger, config, r, {
    drain: [
      ['sync engine', () => r.engine?.stop(Math.max(0, deadline - shell.grpcShutdownDeadlineMs(deadline)))],
      ['consumer', () => r.consumer?.stop()],
      ['notifier', () => r.notifier?.stop()],
      ['run retention', () => r.retention?.stop()],
      ['parse workers', () => r.parsers?.close()],
    ],
  });
}

/** The sync-runs consumer group (a new group starts at the end, and its lag is counted so). */
function syncRunsGroup(config: ConnectorConfig): shell.ServiceConsumerGroup {
  return { groupId: config.SYNC_RUNS_GROUP_ID, topic: config.SYNC_RUNS_TOPIC, fromBeginning: false };
}

// ---- use-cases ----------------------------------------------------------------------------------

/** Repositories, the key vault (legacy keys bound first), run leases, then notifier, settings and engine. */
async function buildUseCases(
  w: Wiring,
  r: Running,
  mongo: MongoConnection,
  producer: EventProducer,
): Promise<UseCases> {
  const { config, logger } = w;
  const runChanges = new RunChanges();
  const runs = (r.runs = new RunsRepository(mongo.db, (id) => runChanges.changed(id)));
  const settingsRepo = new SettingsRepository(mongo.db);
  const schedules = new ScheduleRepository(mongo.db);
  const fetchPlans = new FetchPlansRepository(mongo.db);
  const keys = new KeyVault(settingsRepo, w.cipher, logger);
  // Both idempotent, tried again while the database, lost meanwhile, is unreachable.
  const step = <T>(name: string, run: () => Promise<T>) =>
    shell.serviceStartStep(name, run, { logger, parts: r });
  // Before any call is served: keys stored before the host binding are bound to their address.
  await step('legacy key binding', () => keys.bindLegacyKeys());
  // Before the scheduler starts: every school's settings get the schedule they need (adapters/mongo).
  const reconciled = await step('schedule reconcile', () => schedules.reconcile(new Date()));
  if (reconciled.adopted + reconciled.scheduled > 0)
    logger.info(reconciled, 'schedules adopted from the settings or started (sync_schedules)');
  const leases = new LeaseKeeper(mongoLeaseStore(mongo.db.collection<LeaseDocument>(COLLECTIONS.leases)), {
    owner: w.owner,
    ttlMs: config.RUN_LEASE_TTL_MS,
    logger,
  });
  const freshness = new DataFreshnessRepository(mongo.db, runs.coll);
  const notifications = new NotificationsRepository(mongo.db);
  const notifier = (r.notifier = createNotifier(w, { settingsRepo, runs, freshness, notifications }));
  const source = new IsamsBatchSource(w.isams, config.ISAMS_CONTACTS_METHODS, r.parsers?.parse);
  const settingsAudit = new SettingsAuditRepository(mongo.db);
  const settings = (r.settings = new SettingsService(
    {
      settings: settingsRepo,
      schedules,
      keys,
      fetchPlans,
      probe: source,
      logger,
      audit: settingsAudit,
      testSlots: new TestConnectionSlots(leases, config.CONNECTOR_MAX_CONCURRENT_TESTS),
    },
    {
      allowInsecureLoopback: config.ISAMS_ALLOW_INSECURE_LOOPBACK,
      scheduleJitterMs: config.SCHEDULE_JITTER_MS,
      egressIps: config.EGRESS_IPS ?? [],
      egress: w.isams.egress,
    },
  ));
  const engine = (r.engine = createSyncEngine(w, mongo, producer, {
    settings: settingsRepo,
    schedules,
    runs,
    fetchPlans,
    leases,
    keys,
    freshness,
    source,
  }));
  return {
    settingsRepo,
    runs,
    freshness,
    notifications,
    settingsAudit,
    settings,
    engine,
    notifier,
    runChanges,
  };
}

/** The e-mail notifier over SMTP; undefined when SMTP_HOST is unset (notifications off). */
function createNotifier(
  w: Wiring,
  stores: Pick<UseCases, 'settingsRepo' | 'runs' | 'freshness' | 'notifications'>,
): Notifier | undefined {
  const { config, overrides } = w;
  if (config.SMTP_HOST === undefined) return undefined;
  return new Notifier(
    {
      settings: stores.settingsRepo,
      runs: stores.runs,
      freshness: stores.freshness,
      notifications: stores.notifications,
      mailer: createSmtpMailer({
        host: config.SMTP_HOST,
        port: config.SMTP_PORT,
        tls: config.SMTP_TLS,
        ...(config.SMTP_USER === undefined ? {} : { user: config.SMTP_USER }),
        ...(config.SMTP_PASSWORD === undefined ? {} : { password: config.SMTP_PASSWORD }),
        from: config.NOTIFY_FROM,
        timeoutMs: config.SMTP_TIMEOUT_MS,
      }),
      logger: w.logger.child({ module: 'notifier' }),
    },
    {
      owner: w.owner,
      failureStreak: config.NOTIFY_FAILURE_STREAK,
      staleAfterMs: config.NOTIFY_STALE_AFTER_MS,
      checkIntervalMs: config.NOTIFY_CHECK_INTERVAL_MS,
      ...(config.DASHBOARD_URL === undefined ? {} : { dashboardUrl: config.DASHBOARD_URL }),
      ...(overrides.notifierNow ? { now: overrides.notifierNow } : {}),
    },
  );
}

/** The sync engine with the connector's run settings (concurrency, scheduler, leases, chunks, spool). */
function createSyncEngine(
  w: Wiring,
  mongo: MongoConnection,
  producer: EventProducer,
  deps: Pick<
    SyncEngineDeps,
    'settings' | 'schedules' | 'runs' | 'fetchPlans' | 'keys' | 'freshness' | 'source'
  > & {
    leases: LeaseKeeper;
  },
): SyncEngine {
  const { config, overrides } = w;
  return new SyncEngine(
    {
      settings: deps.settings,
      schedules: deps.schedules,
      runs: deps.runs,
      snapshots: new AppliedSnapshotsRepository(mongo.db),
      claims: new ScheduleClaimsRepository(mongo.db),
      fetchPlans: deps.fetchPlans,
      leases: new MongoRunLeases(deps.leases),
      keys: deps.keys,
      freshness: deps.freshness,
      publisher: new KafkaRunPublisher(producer, {
        rawDatasets: config.RAW_DATASETS_TOPIC,
        syncRuns: config.SYNC_RUNS_TOPIC,
      }),
      source: deps.source,
      spools: new FileSpools(config.SPOOL_DIR, config.CONNECTOR_SPOOL_QUOTA_BYTES),
      logger: w.logger,
      observe: w.own.observer,
      ...(overrides.onStep ? { onStep: overrides.onStep } : {}),
    },
    {
      owner: w.owner,
      concurrency: config.SYNC_CONCURRENCY,
      leaseTtlMs: config.RUN_LEASE_TTL_MS,
      schedulerTickMs: config.SCHEDULER_TICK_MS,
      schedulerEnabled: config.SCHEDULER_ENABLED,
      staleSweepIntervalMs: config.STALE_SWEEP_INTERVAL_MS,
      scheduleJitterMs: config.SCHEDULE_JITTER_MS,
      manualTriggerLimit: config.MANUAL_TRIGGER_LIMIT,
      manualTriggerWindowMs: config.MANUAL_TRIGGER_WINDOW_MS,
      maxChunkBytes: config.MAX_CHUNK_BYTES,
      progressIntervalMs: config.PROGRESS_INTERVAL_MS,
      documentReading: readingOf({
        readerVersion: ISAMS_READER_VERSION,
        canonicalVersion: CANONICAL_JSON_VERSION,
        maxChunkBytes: config.MAX_CHUNK_BYTES,
        parserLimits: parserLimitsOf(config),
      }),
      egressIps: config.EGRESS_IPS ?? [],
    },
  );
}

// ---- servers and background work ----------------------------------------------------------------

/** The ConnectorService on the gRPC server (callers: `CONNECTOR_CALLERS`). */
function serveGrpc(w: Wiring, grpc: GrpcServerHandle, core: UseCases): void {
  shell.serveServiceGrpc<ConnectorServiceProtoGrpcType>(w.config, grpc, {
    proto: 'isams_sync/connector/v1/connector_service.proto',
    name: 'isams_sync.connector.v1.ConnectorService',
    definition: (pkg) => pkg.isams_sync.connector.v1.ConnectorService.service,
    implementation: connectorHandlers({
      settings: core.settings,
      engine: core.engine,
      runs: core.runs,
      freshness: core.freshness,
      notifications: core.notifications,
      runChanges: core.runChanges,
      watchPollMs: w.overrides.watchPollMs ?? 500,
      stopping: grpc.stopping,
    }),
    callers: CONNECTOR_CALLERS,
  });
}

/** Consumer lag of the sync-runs group and the schools' last good sync, sampled (never on a scrape). */
function startMetricsSampler(w: Wiring, kafka: KafkaClient, core: UseCases): Sampler {
  const { config } = w;
  const settingsColl = core.settingsRepo.coll;
  return shell.startConsumerLagSampler(config, {
    ...w,
    kafka,
    group: syncRunsGroup(config),
    samples: [
      w.own.schoolsSample({
        dataAsOf: () => core.freshness.enabledSchoolsDataAsOf(settingsColl),
        staleAfterMs: config.NOTIFY_STALE_AFTER_MS,
      }),
    ],
  });
}

/** The state of e-mail notifications is stated at start (the host, never the user or password). */
function logNotificationsState(config: ConnectorConfig, logger: Logger): void {
  if (config.SMTP_HOST === undefined) logger.info('e-mail notifications off: SMTP_HOST is not set');
  else
    logger.info(
      { smtpHost: config.SMTP_HOST, smtpPort: config.SMTP_PORT, smtpTls: config.SMTP_TLS },
      'e-mail notifications on',
    );
}
