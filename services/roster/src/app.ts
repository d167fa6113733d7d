import {
  consumerGroupLag,
  ensureTopics,
  createEventProducer,
  createKafkaClient,
  kafkaClientOptionsFromConfig,
  kafkaConsumerOptionsFromConfig,
  kafkaProducerOptionsFromConfig,
  kafkaReadinessCheck,
  runConsumer,
} from '@isams-sync/kafka';
import type { ConsumerHandle, EventProducer, KafkaClient } from '@isams-sync/kafka';
import { TOPICS } from '@isams-sync/events';
import { createGrpcServer, loadProtoPackage, serviceKeyringFromConfig } from '@isams-sync/grpc';
import type { GrpcServerHandle, RosterServiceProtoGrpcType } from '@isams-sync/grpc';
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
import { connectMongo, mongoReadinessCheck } from '@isams-sync/mongo';
import type { MongoConnection } from '@isams-sync/mongo';
import { createRosterPublisher } from './adapters/kafka/roster-publisher';
import type { RosterPublisher, RosterTopics } from './adapters/kafka/roster-publisher';
import { RosterStore } from './adapters/mongo/roster-store';
import { TenantLeases, processOwnerId } from './adapters/mongo/tenant-leases';
import type { RosterConfig } from './config';
import { ROSTER_CALLERS, rosterGrpcHandlers } from './handlers/grpc/roster.grpc';
import { rawDatasetsHandler } from './handlers/kafka/raw-datasets.handler';
import { ChangesetProcessor } from './use-cases/changeset-processor';
import type { ProcessingStep } from './use-cases/changeset-processor';
import { GraceSweeper } from './use-cases/grace-sweeper';
import { HeldBatches } from './use-cases/held-batches';
import { RunUndo } from './use-cases/run-undo';
import { RosterQueries } from './use-cases/roster-queries';

/** Expired lease documents older than this are pruned by the sweeper. */
const LEASE_RETENTION_MS = 60 * 60_000;

/** Test seams of {@link createRosterApp}. */
export interface RosterAppOverrides {
  logger?: Logger;
  now?: () => Date;
  /** Throw in here to simulate a crash before a processing step. */
  beforeStep?: (step: ProcessingStep, changesetId: string) => void | Promise<void>;
  /** Don't start the periodic sweeper (tests call `sweep()`). */
  disableSweeper?: boolean;
  /** Consumer session timeout (tests use short ones). */
  sessionTimeoutMs?: number;
}

export interface RosterApp {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly grpcPort: number;
  readonly opsPort: number;
  readonly store: RosterStore;
  readonly processor: ChangesetProcessor;
  readonly heldBatches: HeldBatches;
  readonly queries: RosterQueries;
  readonly sweeper: GraceSweeper;
  /** Cross-replica exclusion per school (its `owner` is unique per app). */
  readonly leases: TenantLeases;
  /** One sweep: refresh the held-batch metrics, fail incomplete runs, resume unfinished changesets, purge after grace, prune old changesets and leases. */
  sweep(now?: Date): Promise<void>;
  /** Resolves when no changeset is running in the background. */
  idle(): Promise<void>;
}

/** Composition root of the roster service. */
export function createRosterApp(config: RosterConfig, overrides: RosterAppOverrides = {}): RosterApp {
  const logger =
    overrides.logger ?? createLogger({ service: config.SERVICE_NAME ?? 'roster', level: config.LOG_LEVEL });
  const identity = serviceKeyringFromConfig(config, 'roster');
  const now = overrides.now ?? (() => new Date());
  const metrics = createMetrics({ service: 'roster' });
  const runsProcessed = metrics.counter<'outcome'>({
    name: 'roster_changesets_total',
    help: 'Changesets finished, by outcome',
    labelNames: ['outcome'],
  });
  const tenantBusy = metrics.counter<'mode'>({
    name: 'roster_tenant_busy_total',
    help: 'Tasks that found their school leased by another replica (skip: background work skipped; wait: an admin action waited)',
    labelNames: ['mode'],
  });
  const topics: RosterTopics = {
    rawDatasets: config.RAW_DATASETS_TOPIC,
    rosterChanges: config.ROSTER_CHANGES_TOPIC,
    rosterState: config.ROSTER_STATE_TOPIC,
    rosterChangesDirectory: config.ROSTER_CHANGES_DIRECTORY_TOPIC,
    rosterStateDirectory: config.ROSTER_STATE_DIRECTORY_TOPIC,
    syncRuns: config.SYNC_RUNS_TOPIC,
  };

  let mongo: MongoConnection | undefined;
  let kafka: KafkaClient | undefined;
  let producer: EventProducer | undefined;
  let consumer: ConsumerHandle | undefined;
  let grpc: GrpcServerHandle | undefined;
  let ops: OpsServer | undefined;
  let readiness: Readiness | undefined;
  let sampler: Sampler | undefined;
  let timer: NodeJS.Timeout | undefined;
  let store!: RosterStore;
  let leases!: TenantLeases;
  let processor!: ChangesetProcessor;
  let heldBatches!: HeldBatches;
  let queries!: RosterQueries;
  let sweeper!: GraceSweeper;
  const background = new Set<Promise<void>>();

  const track = (p: Promise<void>): void => {
    const t = p.catch((err: unknown) =>
      logger.warn({ err }, 'changeset processing failed; it resumes at the next sweep'),
    );
    background.add(t);
    void t.finally(() => background.delete(t));
  };

  const heldPending = metrics.gauge({
    name: 'roster_held_batches_pending',
    help: 'Held batches waiting for a decision (approve or discard), all schools together',
  });
  const heldOldestAge = metrics.gauge({
    name: 'roster_held_batch_oldest_age_seconds',
    help: 'Age of the oldest held batch waiting for a decision (0 when none waits)',
  });
  /** Refreshes the held-batch gauges (every sweep); a failure only leaves them as they were. */
  const measureHeld = async (at: Date): Promise<void> => {
    try {
      const { count, oldestCreatedAt } = await store.pendingBatchStats();
      heldPending.set(count);
      heldOldestAge.set(oldestCreatedAt ? Math.max(0, (at.getTime() - oldestCreatedAt.getTime()) / 1000) : 0);
    } catch (err) {
      logger.warn({ err }, 'held-batch metrics not refreshed; retried at the next sweep');
    }
  };
  const sweep = async (at: Date = now()): Promise<void> => {
    await measureHeld(at);
    await processor.failIncompleteRuns(at);
    await processor.resumeAll();
    await sweeper.purgeExpired(at);
    await sweeper.pruneOldChangesets(at);
    // Real time, not `at`: lease expiry is judged by the replicas' wall clocks.
    await leases.prune(new Date(Date.now() - LEASE_RETENTION_MS));
  };

  const app: RosterApp = {
    get grpcPort() {
      return grpc?.port ?? 0;
    },
    get opsPort() {
      return ops?.port ?? 0;
    },
    get store() {
      return store;
    },
    get leases() {
      return leases;
    },
    get processor() {
      return processor;
    },
    get heldBatches() {
      return heldBatches;
    },
    get queries() {
      return queries;
    },
    get sweeper() {
      return sweeper;
    },
    sweep,
    async idle() {
      while (background.size > 0) await Promise.all([...background]);
    },
    async start() {
      mongo = await connectMongo({
        url: config.MONGO_URL,
        dbName: config.MONGO_DB,
        logger,
        appName: 'roster',
      });
      store = new RosterStore(mongo.db);
      await store.init();
      leases = new TenantLeases(mongo.db, {
        owner: processOwnerId(),
        ttlMs: config.TENANT_LEASE_TTL_MS,
        logger,
      });
      kafka = createKafkaClient(kafkaClientOptionsFromConfig(config, { service: 'roster', logger }));
      if (config.KAFKA_ENSURE_TOPICS) {
        const mine = new Set<string>([
          topics.rawDatasets,
          topics.rosterChanges,
          topics.rosterState,
          topics.rosterChangesDirectory,
          topics.rosterStateDirectory,
          topics.syncRuns,
        ]);
        await ensureTopics(
          kafka,
          TOPICS.filter((t) => mine.has(t.name) || mine.has(t.name.replace(/\.dlq$/, ''))),
          {
            replicationFactor: config.KAFKA_TOPIC_REPLICATION_FACTOR,
          },
        );
      }
      // Change events carry before/after images: requests are cut by bytes (the producer's default ~900 kB).
      producer = createEventProducer(kafka, {
        logger,
        ...kafkaProducerOptionsFromConfig(config),
        maxBatchSize: 1000,
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
      const publisher: RosterPublisher = createRosterPublisher(producer, topics);
      processor = new ChangesetProcessor({
        store,
        publisher: {
          ...publisher,
          publishRunUpdate: async (e) => {
            await publisher.publishRunUpdate(e);
            const status = (e.data as { status: string }).status;
            if (status !== 'applying') runsProcessed.inc({ outcome: status });
          },
        },
        logger,
        graceDays: config.REMOVAL_GRACE_DAYS,
        defaultThresholds: {
          default: { percent: config.HOLD_THRESHOLD_PERCENT, min: config.HOLD_THRESHOLD_MIN },
        },
        incompleteRunTimeoutMs: config.INCOMPLETE_RUN_TIMEOUT_MS,
        leases,
        leaseWaitMs: config.TENANT_LEASE_WAIT_MS,
        onTenantBusy: (mode) => tenantBusy.inc({ mode }),
        background: track,
        now,
        ...(overrides.beforeStep === undefined ? {} : { beforeStep: overrides.beforeStep }),
      });
      heldBatches = new HeldBatches(store, processor, now);
      queries = new RosterQueries(
        store,
        processor,
        { percent: config.HOLD_THRESHOLD_PERCENT, min: config.HOLD_THRESHOLD_MIN },
        now,
      );
      sweeper = new GraceSweeper(store, publisher, processor, logger, config.REMOVAL_GRACE_DAYS);

      // A roster stored before #17 (packed buckets) becomes entity documents + manifests first.
      await processor.migrateLegacyRoster();
      // Finish whatever a previous process left half done before taking new work.
      await processor
        .resumeAll({ rebuild: true })
        .catch((err: unknown) => logger.warn({ err }, 'resume on start failed; retried at the next sweep'));

      const pkg = loadProtoPackage<RosterServiceProtoGrpcType>(
        'isams_sync/roster/v1/roster_service.proto',
        config.PROTOS_DIR === undefined ? {} : { protosDir: config.PROTOS_DIR },
      );
      grpc = await createGrpcServer({
        logger,
        port: config.GRPC_PORT,
        identity,
        reflection: config.GRPC_REFLECTION,
        readiness,
        services: [
          {
            name: 'isams_sync.roster.v1.RosterService',
            definition: pkg.isams_sync.roster.v1.RosterService.service,
            implementation: rosterGrpcHandlers({
              queries,
              heldBatches,
              runUndo: new RunUndo(store, processor, config.REMOVAL_GRACE_DAYS, now),
            }),
            callers: ROSTER_CALLERS,
          },
        ],
      });
      ops = await startOpsServer({
        port: config.OPS_PORT,
        metrics,
        logger,
        readiness: () => readiness?.isReady() ?? false,
      });

      consumer = await runConsumer({
        client: kafka,
        ...kafkaConsumerOptionsFromConfig(config),
        groupId: config.RAW_DATASETS_GROUP_ID,
        topics: [topics.rawDatasets],
        fromBeginning: true,
        logger,
        ...(overrides.sessionTimeoutMs === undefined
          ? {}
          : { sessionTimeoutMs: overrides.sessionTimeoutMs, heartbeatIntervalMs: 1000 }),
        handler: rawDatasetsHandler(store, processor, now, track),
        onDeadLettered: deadLetterCounter(metrics),
      });
      await consumer.ready;
      const client = kafka;
      sampler = startSampler({
        intervalMs: config.METRICS_SAMPLE_INTERVAL_MS,
        logger,
        samples: [
          consumerLagSample(metrics, config.RAW_DATASETS_GROUP_ID, () =>
            consumerGroupLag(client, config.RAW_DATASETS_GROUP_ID, [topics.rawDatasets], {
              fromBeginning: true,
            }),
          ),
        ],
      });
      if (!overrides.disableSweeper) {
        // One sweep at a time: on a slow database a sweep can outlast the interval, and piled-up
        // sweeps only compete with each other (and with the runs) for the same database.
        let sweeping = false;
        timer = setInterval(() => {
          if (sweeping) return;
          sweeping = true;
          track(sweep().finally(() => (sweeping = false)));
        }, config.SWEEP_INTERVAL_MS);
        timer.unref();
      }
      logger.info({ grpcPort: grpc.port, opsPort: ops.port, leaseOwner: leases.owner }, 'roster started');
    },
    async stop() {
      if (timer) clearInterval(timer);
      readiness?.stop();
      // Not awaited: a sample waiting on an unreachable broker must not hold the shutdown up.
      void sampler?.stop();
      await grpc?.shutdown(config.SHUTDOWN_TIMEOUT_MS / 2);
      await consumer?.stop();
      await app.idle().catch(() => undefined);
      await producer?.disconnect();
      await ops?.close();
      await mongo?.close();
    },
  };
  return app;
}
