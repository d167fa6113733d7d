import { TOPICS, dlqTopicName } from '@isams-sync/events';
import type { TopicSpec } from '@isams-sync/events';
import { createGrpcServer, loadProtoPackage, serviceKeyringFromConfig } from '@isams-sync/grpc';
import type { BookingsServiceProtoGrpcType, GrpcServerHandle } from '@isams-sync/grpc';
import {
  consumerGroupLag,
  createEventProducer,
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
import { connectMongo, mongoReadinessCheck } from '@isams-sync/mongo';
import type { MongoConnection } from '@isams-sync/mongo';
import type { BookingsConfig } from './config';
import { createRosterDirectory } from './adapters/grpc-clients/roster-directory.factory';
import type { RosterDirectoryHandle } from './adapters/grpc-clients/roster-directory.factory';
import { kafkaBookingEventPublisher } from './adapters/kafka/booking-events.publisher';
import { countingPublisher } from './adapters/kafka/counting.publisher';
import { BookingsStore } from './adapters/mongo/bookings.store';
import type { RosterDirectory } from './domain/roster-directory.port';
import { BOOKINGS_CALLERS, bookingsGrpcHandlers } from './handlers/grpc/bookings.grpc';
import { rosterChangesBatchHandler, rosterChangesHandler } from './handlers/kafka/roster-changes.handler';
import { createBookingsUseCases } from './use-cases/bookings.use-cases';
import type { BookingsUseCases } from './use-cases/bookings.use-cases';
import { createRosterChangeHandler } from './use-cases/roster-change.use-case';

export interface BookingsAppOverrides {
  logger?: Logger;
  /** Replaces the RosterService gRPC directory (tests). */
  roster?: RosterDirectory;
  /** Clock (tests of "live today"). */
  now?: () => Date;
  /** Consumer session timeout (tests use short ones). */
  sessionTimeoutMs?: number;
}

export interface BookingsApp {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly grpcPort: number;
  readonly opsPort: number;
  readonly useCases: BookingsUseCases;
  readonly store: BookingsStore;
}

/** Topic specs for the configured names (tests use unique names; production the declared ones). */
function topicSpecs(config: BookingsConfig): TopicSpec[] {
  const declared = (name: string) => TOPICS.find((t) => t.name === name)!;
  return [
    { ...declared('roster.changes.v1'), name: config.ROSTER_CHANGES_TOPIC },
    { ...declared(dlqTopicName('roster.changes.v1')), name: dlqTopicName(config.ROSTER_CHANGES_TOPIC) },
    { ...declared('bookings.events.v1'), name: config.BOOKINGS_EVENTS_TOPIC },
  ];
}

/** Composition root of the bookings service. */
export function createBookingsApp(config: BookingsConfig, overrides: BookingsAppOverrides = {}): BookingsApp {
  const logger =
    overrides.logger ?? createLogger({ service: config.SERVICE_NAME ?? 'bookings', level: config.LOG_LEVEL });
  const identity = serviceKeyringFromConfig(config, 'bookings');
  const metrics = createMetrics({ service: 'bookings' });
  const outcomes = metrics.counter({
    name: 'bookings_roster_changes_total',
    help: 'Roster change events handled, by outcome',
    labelNames: ['status'],
  });
  const duration = metrics.histogram({
    name: 'bookings_roster_change_seconds',
    help: 'Time to apply one roster change event (its share of the batch it was applied in)',
  });

  let mongo: MongoConnection | undefined;
  let producer: EventProducer | undefined;
  let consumer: ConsumerHandle | undefined;
  let grpc: GrpcServerHandle | undefined;
  let ops: OpsServer | undefined;
  let readiness: Readiness | undefined;
  let sampler: Sampler | undefined;
  let store: BookingsStore | undefined;
  let useCases: BookingsUseCases | undefined;
  let rosterHandle: RosterDirectoryHandle | undefined;
  let sweepTimer: NodeJS.Timeout | undefined;
  let sweeping: Promise<unknown> | undefined;

  return {
    async start() {
      mongo = await connectMongo({
        url: config.MONGO_URL,
        dbName: config.MONGO_DB,
        logger,
        appName: 'bookings',
      });
      store = await BookingsStore.create(mongo.db);
      const kafka = createKafkaClient(kafkaClientOptionsFromConfig(config, { service: 'bookings', logger }));
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
      // Kafka and MongoDB only: the roster's gRPC API is not a readiness dependency (a roster outage
      // must not take bookings' own API out of service; its calls fail on their own).
      readiness = createReadiness({
        checks: [mongoReadinessCheck(mongo), kafkaReadinessCheck(kafka)],
        intervalMs: config.READINESS_INTERVAL_MS,
        timeoutMs: config.READINESS_TIMEOUT_MS,
        logger,
        metrics,
      });
      await readiness.start();
      const publisher = countingPublisher(
        kafkaBookingEventPublisher(producer, config.BOOKINGS_EVENTS_TOPIC),
        metrics,
      );
      const pkgOptions = config.PROTOS_DIR ? { protosDir: config.PROTOS_DIR } : {};
      rosterHandle = overrides.roster
        ? undefined
        : createRosterDirectory(config, logger, { ...pkgOptions, identity });
      const roster = overrides.roster ?? rosterHandle!.directory;
      useCases = createBookingsUseCases({
        store,
        publisher,
        roster,
        ...(overrides.now ? { now: overrides.now } : {}),
      });
      const rosterChanges = createRosterChangeHandler({
        store,
        publisher,
        logger,
        ...(overrides.now ? { now: overrides.now } : {}),
      });
      consumer = await runConsumer({
        client: kafka,
        ...kafkaConsumerOptionsFromConfig(config),
        groupId: config.ROSTER_CHANGES_GROUP_ID,
        topics: [config.ROSTER_CHANGES_TOPIC],
        handler: rosterChangesHandler(rosterChanges.handle, { outcomes, duration }),
        // A burst of removals is applied a batch at a time (one bookings lookup per school and batch).
        batchHandler: rosterChangesBatchHandler(rosterChanges.handleBatch, { outcomes, duration }),
        maxBatchSize: config.ROSTER_CHANGES_BATCH_SIZE,
        onDeadLettered: deadLetterCounter(metrics),
        logger,
        fromBeginning: true,
        ...(overrides.sessionTimeoutMs
          ? {
              sessionTimeoutMs: overrides.sessionTimeoutMs,
              heartbeatIntervalMs: Math.floor(overrides.sessionTimeoutMs / 6),
            }
          : {}),
      });
      await consumer.ready;
      sampler = startSampler({
        intervalMs: config.METRICS_SAMPLE_INTERVAL_MS,
        logger,
        samples: [
          consumerLagSample(metrics, config.ROSTER_CHANGES_GROUP_ID, () =>
            consumerGroupLag(kafka, config.ROSTER_CHANGES_GROUP_ID, [config.ROSTER_CHANGES_TOPIC], {
              fromBeginning: true,
            }),
          ),
        ],
      });
      const pkg = loadProtoPackage<BookingsServiceProtoGrpcType>(
        'isams_sync/bookings/v1/bookings_service.proto',
        pkgOptions,
      );
      grpc = await createGrpcServer({
        logger,
        port: config.GRPC_PORT,
        identity,
        reflection: config.GRPC_REFLECTION,
        readiness,
        services: [
          {
            name: 'isams_sync.bookings.v1.BookingsService',
            definition: pkg.isams_sync.bookings.v1.BookingsService.service,
            implementation: bookingsGrpcHandlers(useCases),
            callers: BOOKINGS_CALLERS,
          },
        ],
      });
      const uc = useCases;
      sweepTimer = setInterval(() => {
        if (sweeping) return;
        sweeping = uc
          .resolveEndedEvenings()
          .then((r) => {
            if (r.evenings > 0) logger.info(r, 'held cancellations of ended evenings resolved');
          })
          .catch((err: unknown) => logger.warn({ err }, 'end-of-evening sweep failed; retried next interval'))
          .finally(() => (sweeping = undefined));
      }, config.EVENING_SWEEP_INTERVAL_MS);
      sweepTimer.unref();
      const ready = readiness;
      ops = await startOpsServer({
        port: config.OPS_PORT,
        metrics,
        logger,
        readiness: () => ready.isReady(),
      });
      logger.info({ grpcPort: grpc.port, opsPort: ops.port }, 'bookings started');
    },
    async stop() {
      clearInterval(sweepTimer);
      readiness?.stop();
      // Not awaited: a sample waiting on an unreachable broker must not hold the shutdown up.
      void sampler?.stop();
      await grpc?.shutdown(Math.min(2_000, config.SHUTDOWN_TIMEOUT_MS));
      await sweeping;
      await consumer?.stop().catch(() => undefined);
      await producer?.disconnect().catch(() => undefined);
      rosterHandle?.close();
      await ops?.close().catch(() => undefined);
      await mongo?.close();
    },
    get grpcPort() {
      return grpc?.port ?? 0;
    },
    get opsPort() {
      return ops?.port ?? 0;
    },
    get useCases() {
      if (!useCases) throw new Error('bookings not started');
      return useCases;
    },
    get store() {
      if (!store) throw new Error('bookings not started');
      return store;
    },
  };
}
