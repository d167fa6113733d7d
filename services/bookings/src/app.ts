import { TopicNames, topicsAs } from '@isams-sync/events';
import type { TopicSpec } from '@isams-sync/events';
import type { BookingsServiceProtoGrpcType, GrpcServerHandle, ServiceKeyring } from '@isams-sync/grpc';
import type { ConsumerHandle, EventProducer, KafkaClient, RunConsumerOptions } from '@isams-sync/kafka';
import type { Logger } from '@isams-sync/logger';
import { startPeriodic, startRetention } from '@isams-sync/runtime';
import type { PeriodicTask } from '@isams-sync/runtime';
import type { Counter, Histogram, Metrics, OpsServer, Sampler } from '@isams-sync/metrics';
import type { MongoConnection } from '@isams-sync/mongo';
import * as shell from '@isams-sync/service-shell';
import type { BookingsConfig } from './config';
import { createRosterDirectory } from './adapters/grpc-clients/roster-directory.factory';
import type { RosterDirectoryHandle } from './adapters/grpc-clients/roster-directory.factory';
import { kafkaBookingEventPublisher } from './adapters/kafka/booking-events.publisher';
import { countingPublisher } from './adapters/kafka/counting.publisher';
import { MongoBookingsStore } from './adapters/mongo/bookings.store';
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
  /** Interval of the processed-event records' retention (tests use a short one; hourly otherwise). */
  retentionIntervalMs?: number;
}

export interface BookingsApp extends shell.BackendServiceApp {
  readonly useCases: BookingsUseCases;
  readonly store: MongoBookingsStore;
}

/** Topic specs for the configured names (tests use unique names; production the declared ones). */
function topicSpecs(config: BookingsConfig): TopicSpec[] {
  return topicsAs([
    { declared: TopicNames.rosterChanges, name: config.ROSTER_CHANGES_TOPIC, withDlq: true },
    { declared: TopicNames.bookingsEvents, name: config.BOOKINGS_EVENTS_TOPIC },
  ]);
}

/** What a running bookings service holds; each part is set as soon as it exists, so `stop()` closes what a failed start opened. */
interface BookingsParts {
  mongo?: MongoConnection;
  store?: MongoBookingsStore;
  kafka?: KafkaClient;
  producer?: EventProducer;
  readiness?: shell.StartGate;
  abortStart?: AbortController;
  rosterHandle?: RosterDirectoryHandle;
  useCases?: BookingsUseCases;
  consumer?: ConsumerHandle;
  sampler?: Sampler;
  grpc?: GrpcServerHandle;
  sweep?: PeriodicTask;
  retention?: PeriodicTask;
  ops?: OpsServer;
}

/** What `start()` needs from its context (built once by {@link createBookingsApp}). */
interface BookingsContext {
  config: BookingsConfig;
  overrides: BookingsAppOverrides;
  logger: Logger;
  identity: ServiceKeyring;
  metrics: Metrics;
}

/** Composition root of the bookings service. */
export function createBookingsApp(config: BookingsConfig, overrides: BookingsAppOverrides = {}): BookingsApp {
  const ctx: BookingsContext = {
    config,
    overrides,
    ...shell.serviceBasics(config, 'bookings', overrides.logger),
  };
  const rosterChangeMetrics = rosterChangeMetricsOf(ctx.metrics);
  const parts: BookingsParts = {};

  return shell.serviceApp(
    'bookings',
    parts,
    {
      async start() {
        // Health first (live, not ready), so a start during an outage waits instead of exiting.
        // Readiness is Kafka and MongoDB only: the roster's gRPC API is not a readiness dependency
        // (a roster outage must not take bookings' own API out of service; its calls fail on their own).
        await shell.openServiceHealth(config, {
          ...ctx,
          service: 'bookings',
          parts,
          kafka: { config },
          grpc: { config, identity: ctx.identity },
        });
        const kafka = await startStorageAndKafka(ctx, parts);
        const { rosterChanges, useCases } = wireUseCases(ctx, parts);
        serveGrpc(ctx, parts.grpc!, useCases);
        await shell.startServiceConsumer(
          rosterChangesConsumerOptions(ctx, kafka, rosterChanges, rosterChangeMetrics),
          { logger: ctx.logger, parts },
        );
        parts.sampler = startLagSampler(ctx, kafka);
        parts.sweep = startEveningSweep(useCases, config.EVENING_SWEEP_INTERVAL_MS, ctx.logger);
        // Processed-event records older than PROCESSED_EVENTS_RETENTION_DAYS (docs/security.md › Retention).
        const store = parts.store!;
        parts.retention = startRetention((before) => store.dropProcessedBefore(before), {
          name: 'processed-event retention',
          what: 'processed-event records',
          keepDays: config.PROCESSED_EVENTS_RETENTION_DAYS,
          intervalMs: overrides.retentionIntervalMs ?? 3_600_000,
          logger: ctx.logger,
        });
        shell.serviceStarted(parts);
        ctx.logger.info({ grpcPort: parts.grpc!.port, opsPort: parts.ops!.port }, 'bookings started');
      },
      stop: () => stopBookings(parts, config, ctx.logger),
    },
    ['useCases', 'store'],
  );
}

/** The metrics of the roster change consumer. */
function rosterChangeMetricsOf(metrics: Metrics): { outcomes: Counter<'status'>; duration: Histogram } {
  return {
    outcomes: metrics.counter({
      name: 'bookings_roster_changes_total',
      help: 'Roster change events handled, by outcome',
      labelNames: ['status'],
    }),
    duration: metrics.histogram({
      name: 'bookings_roster_change_seconds',
      help: 'Time to apply one roster change event (its share of the batch it was applied in)',
    }),
  };
}

/** MongoDB and the store, the topics, the producer (each awaited while unreachable); returns the Kafka client. */
async function startStorageAndKafka(ctx: BookingsContext, parts: BookingsParts): Promise<KafkaClient> {
  const { kafka } = await shell.startServiceInfra(ctx.config, {
    service: 'bookings',
    logger: ctx.logger,
    parts,
    prepare: async (mongo) => {
      parts.store = await MongoBookingsStore.create(mongo.db);
    },
    topics: topicSpecs(ctx.config),
    onTopicMismatch: 'warn',
  });
  return kafka;
}

/** The `roster.changes.v1` consumer group (its lag counted from the beginning, as it starts). */
function rosterChangesGroup(config: BookingsConfig): shell.ServiceConsumerGroup {
  return { groupId: config.ROSTER_CHANGES_GROUP_ID, topic: config.ROSTER_CHANGES_TOPIC, fromBeginning: true };
}

/** The counted Kafka publisher, the roster directory, the use-cases and the roster change handler. */
function wireUseCases(ctx: BookingsContext, parts: BookingsParts) {
  const { config, overrides, logger } = ctx;
  const store = parts.store!;
  const publisher = countingPublisher(
    kafkaBookingEventPublisher(parts.producer!, config.BOOKINGS_EVENTS_TOPIC),
    ctx.metrics,
  );
  parts.rosterHandle = overrides.roster
    ? undefined
    : createRosterDirectory(config, logger, { ...shell.protosDirOption(config), identity: ctx.identity });
  const roster = overrides.roster ?? parts.rosterHandle!.directory;
  const now = overrides.now ? { now: overrides.now } : {};
  const useCases = (parts.useCases = createBookingsUseCases({ store, publisher, roster, ...now }));
  const rosterChanges = createRosterChangeHandler({ store, publisher, logger, ...now });
  return { useCases, rosterChanges };
}

/** The `roster.changes.v1` consumer: one event at a time, or a batch at a time in a burst. */
function rosterChangesConsumerOptions(
  ctx: BookingsContext,
  kafka: KafkaClient,
  rosterChanges: ReturnType<typeof createRosterChangeHandler>,
  metrics: { outcomes: Counter<'status'>; duration: Histogram },
): RunConsumerOptions {
  const { config } = ctx;
  return {
    ...shell.serviceConsumerOptions(config, {
      ...ctx,
      kafka,
      group: rosterChangesGroup(config),
      sessionTimeoutMs: ctx.overrides.sessionTimeoutMs,
    }),
    handler: rosterChangesHandler(rosterChanges.handle, metrics),
    // A burst of removals is applied a batch at a time (one bookings lookup per school and batch).
    batchHandler: rosterChangesBatchHandler(rosterChanges.handleBatch, metrics),
    maxBatchSize: config.ROSTER_CHANGES_BATCH_SIZE,
  };
}

/** Samples the consumer group's lag into the metrics. */
function startLagSampler(ctx: BookingsContext, kafka: KafkaClient): Sampler {
  return shell.startConsumerLagSampler(ctx.config, { ...ctx, kafka, group: rosterChangesGroup(ctx.config) });
}

/** The BookingsService on the gRPC server (callers: `BOOKINGS_CALLERS`). */
function serveGrpc(ctx: BookingsContext, grpc: GrpcServerHandle, useCases: BookingsUseCases): void {
  shell.serveServiceGrpc<BookingsServiceProtoGrpcType>(ctx.config, grpc, {
    proto: 'isams_sync/bookings/v1/bookings_service.proto',
    name: 'isams_sync.bookings.v1.BookingsService',
    definition: (pkg) => pkg.isams_sync.bookings.v1.BookingsService.service,
    implementation: bookingsGrpcHandlers(useCases),
    callers: BOOKINGS_CALLERS,
  });
}

/** Resolves the held cancellations of ended evenings every `intervalMs`, one run at a time (libs/runtime). */
function startEveningSweep(useCases: BookingsUseCases, intervalMs: number, logger: Logger): PeriodicTask {
  return startPeriodic(
    async () => {
      const r = await useCases.resolveEndedEvenings();
      if (r.evenings > 0) logger.info(r, 'held cancellations of ended evenings resolved');
    },
    { name: 'end-of-evening sweep', intervalMs, logger },
  );
}

/**
 * The periodic tasks off; the gRPC server, the sweep under way, the consumer, the producer, the
 * roster client, the ops server, the database (libs/service-shell `stopService`).
 */
async function stopBookings(parts: BookingsParts, config: BookingsConfig, logger: Logger): Promise<void> {
  const sweepUnderWay = parts.sweep?.stop();
  const retentionUnderWay = parts.retention?.stop();
  await shell.stopService(logger, config, parts, {
    drain: [
      ['evening sweep', () => sweepUnderWay],
      ['processed-event retention', () => retentionUnderWay],
      ['consumer', () => parts.consumer?.stop()],
    ],
    clients: [['roster client', () => parts.rosterHandle?.close()]],
  });
}
