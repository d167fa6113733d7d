import type { ConsumerHandle, EventProducer, KafkaClient, RunConsumerOptions } from '@isams-sync/kafka';
import type { GrpcServerHandle, RosterServiceProtoGrpcType, ServiceKeyring } from '@isams-sync/grpc';
import type { Logger } from '@isams-sync/logger';
import { startPeriodic } from '@isams-sync/runtime';
import type { PeriodicTask } from '@isams-sync/runtime';
import type { Counter, Gauge, Metrics, OpsServer, Sampler } from '@isams-sync/metrics';
import type { MongoConnection } from '@isams-sync/mongo';
import * as shell from '@isams-sync/service-shell';
import { createRosterPublisher } from './adapters/kafka/roster-publisher';
import type { RosterTopics } from './adapters/kafka/roster-publisher';
import { rosterTopicSpecs } from './adapters/kafka/roster-topics';
import { RosterStore } from './adapters/mongo/roster-store';
import { TenantLeases, processOwnerId } from './adapters/mongo/tenant-leases';
import type { RosterConfig } from './config';
import { ROSTER_CALLERS, rosterGrpcHandlers } from './handlers/grpc/roster.grpc';
import { rawDatasetsHandlers } from './handlers/kafka/raw-datasets.handler';
import { ChangesetProcessor } from './use-cases/changeset-processor';
import type { ProcessingStep, RosterMemory } from './use-cases/changeset-processor';
import { ImageMemory, StagedChunkMemory } from './use-cases/process-memory';
import type { RosterPublisher } from './use-cases/ports';
import { GraceSweeper } from './use-cases/grace-sweeper';
import { StagedChunkSweeper } from './use-cases/staged-chunk-sweep';
import { HeldBatches } from './use-cases/held-batches';
import { RunUndo } from './use-cases/run-undo';
import { RosterQueries } from './use-cases/roster-queries';

/** A school's images in memory are dropped once unused for this long (docs/roster-model.md › What a replica remembers). */
const IMAGE_MEMORY_IDLE_MS = 3 * 3_600_000;
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

export interface RosterApp extends shell.BackendServiceApp {
  readonly store: RosterStore;
  readonly processor: ChangesetProcessor;
  readonly heldBatches: HeldBatches;
  readonly queries: RosterQueries;
  readonly sweeper: GraceSweeper;
  /** What this process keeps in hand between a run's steps (docs/roster-model.md › What a replica remembers). */
  readonly memory: RosterMemory;
  /** Cross-replica exclusion per school (its `owner` is unique per app). */
  readonly leases: TenantLeases;
  /** One sweep: refresh the held-batch metrics, fail incomplete runs, create the changesets of stranded approvals, report discards not yet reported, resume unfinished changesets, purge after grace, prune old changesets, drop abandoned staged chunks, prune leases. */
  sweep(now?: Date): Promise<void>;
  /** Resolves when no changeset is running in the background. */
  idle(): Promise<void>;
}

/** The roster's own metrics (registered once, when the app is created). */
interface RosterMetrics {
  /** Changesets finished, by outcome. */
  readonly runsProcessed: Counter<'outcome'>;
  /** Tasks that found their school leased by another replica. */
  readonly tenantBusy: Counter<'mode'>;
  readonly heldPending: Gauge;
  readonly heldOldestAge: Gauge;
  readonly memoryImages: Gauge;
  readonly memoryChunkBytes: Gauge;
  /** Runs whose staged chunks the sweep dropped, by reason. */
  readonly stagedRunsDropped: Counter<'reason'>;
}

/** Changesets processed in the background (admin approvals and undos, consumed runs, stranded approvals the sweep found); `stop` drains them. */
interface BackgroundWork {
  /** Keeps `p` until it settles; a failure is logged (the changeset resumes at the next sweep). */
  readonly track: (p: Promise<void>) => void;
  /** Resolves when nothing tracked is still running (also what was tracked while waiting). */
  readonly idle: () => Promise<void>;
}

/** What every wiring step of one roster instance shares (made once, when the app is created). */
interface Wiring {
  readonly config: RosterConfig;
  readonly overrides: RosterAppOverrides;
  readonly logger: Logger;
  readonly identity: ServiceKeyring;
  readonly now: () => Date;
  readonly metrics: Metrics;
  readonly own: RosterMetrics;
  readonly topics: RosterTopics;
  readonly background: BackgroundWork;
}

/** What `start` has brought up so far: `stop` closes exactly that, also after a start that failed half-way. */
interface Running {
  mongo?: MongoConnection;
  store?: RosterStore;
  leases?: TenantLeases;
  kafka?: KafkaClient;
  producer?: EventProducer;
  readiness?: shell.StartGate;
  abortStart?: AbortController;
  processor?: ChangesetProcessor;
  heldBatches?: HeldBatches;
  queries?: RosterQueries;
  sweeper?: GraceSweeper;
  chunkSweeper?: StagedChunkSweeper;
  memory?: RosterMemory;
  grpc?: GrpcServerHandle;
  ops?: OpsServer;
  consumer?: ConsumerHandle;
  sampler?: Sampler;
  sweeps?: PeriodicTask;
  /** The step the sweep under way is at (for the stuck-sweep warning). */
  sweepStep?: string;
}

/** The use-cases the handlers, the consumer and the sweeps call. */
interface UseCases {
  readonly store: RosterStore;
  readonly processor: ChangesetProcessor;
  readonly heldBatches: HeldBatches;
  readonly queries: RosterQueries;
  readonly sweeper: GraceSweeper;
  /** The staged chunks and images this process keeps in hand (docs/roster-model.md › What a replica remembers). */
  readonly memory: RosterMemory;
}

/** Composition root of the roster service. */
export function createRosterApp(config: RosterConfig, overrides: RosterAppOverrides = {}): RosterApp {
  const { logger, identity, metrics } = shell.serviceBasics(config, 'roster', overrides.logger);
  const w: Wiring = {
    config,
    overrides,
    logger,
    identity,
    now: overrides.now ?? (() => new Date()),
    metrics,
    own: rosterMetrics(metrics),
    topics: rosterTopics(config),
    background: backgroundWork(logger),
  };
  const running: Running = {};
  const sweep = (at: Date = w.now()): Promise<void> => sweepOnce(w, running, at);
  return shell.serviceApp(
    'roster',
    running,
    {
      start: () => startRoster(w, running, sweep),
      stop: () => stopRoster(w, running),
      sweep,
      idle: () => w.background.idle(),
    },
    ['store', 'leases', 'processor', 'heldBatches', 'queries', 'sweeper', 'memory'],
  );
}

function rosterMetrics(metrics: Metrics): RosterMetrics {
  return {
    runsProcessed: metrics.counter<'outcome'>({
      name: 'roster_changesets_total',
      help: 'Changesets finished, by outcome',
      labelNames: ['outcome'],
    }),
    tenantBusy: metrics.counter<'mode'>({
      name: 'roster_tenant_busy_total',
      help: 'Tasks that found their school leased by another replica (skip: background work skipped; wait: an admin action waited)',
      labelNames: ['mode'],
    }),
    heldPending: metrics.gauge({
      name: 'roster_held_batches_pending',
      help: 'Held batches waiting for a decision (approve or discard), all schools together',
    }),
    heldOldestAge: metrics.gauge({
      name: 'roster_held_batch_oldest_age_seconds',
      help: 'Age of the oldest held batch waiting for a decision (0 when none waits)',
    }),
    memoryImages: metrics.gauge({
      name: 'roster_memory_images',
      help: 'Entity images this replica keeps in hand for the next runs’ diffs (cap IMAGE_MEMORY_ENTITIES; refreshed every sweep)',
    }),
    memoryChunkBytes: metrics.gauge({
      name: 'roster_memory_staged_chunk_bytes',
      help: 'Staged raw chunks this replica keeps in hand until their run is planned, bytes as received (cap STAGED_CHUNK_MEMORY_MB; refreshed every sweep)',
    }),
    stagedRunsDropped: metrics.counter<'reason'>({
      name: 'roster_staged_runs_dropped_total',
      help: 'Runs whose staged raw chunks the sweep dropped (no_marker: the run-complete marker never came; run_finished: staged again after the run finished; dry_run_expired: a dry run past REMOVAL_GRACE_DAYS)',
      labelNames: ['reason'],
    }),
  };
}

function rosterTopics(config: RosterConfig): RosterTopics {
  return {
    rawDatasets: config.RAW_DATASETS_TOPIC,
    rosterChanges: config.ROSTER_CHANGES_TOPIC,
    rosterState: config.ROSTER_STATE_TOPIC,
    rosterChangesDirectory: config.ROSTER_CHANGES_DIRECTORY_TOPIC,
    rosterStateDirectory: config.ROSTER_STATE_DIRECTORY_TOPIC,
    syncRuns: config.SYNC_RUNS_TOPIC,
  };
}

function backgroundWork(logger: Logger): BackgroundWork {
  const running = new Set<Promise<void>>();
  return {
    track: (p) => {
      const t = p.catch((err: unknown) =>
        logger.warn({ err }, 'changeset processing failed; it resumes at the next sweep'),
      );
      running.add(t);
      void t.finally(() => running.delete(t));
    },
    idle: async () => {
      while (running.size > 0) await Promise.all([...running]);
    },
  };
}

// ---- sweeps -------------------------------------------------------------------------------------

/** One sweep: refresh the held-batch metrics, fail incomplete runs, create the changesets of stranded approvals, report discards not yet reported, resume unfinished changesets, purge after grace, prune old changesets, drop abandoned staged chunks, prune leases. */
async function sweepOnce(w: Wiring, r: Running, at: Date): Promise<void> {
  const steps: ReadonlyArray<readonly [step: string, run: () => Promise<unknown>]> = [
    ['held-batch metrics', () => measureHeld(w, r.store!, at)],
    ['memory', async () => expireMemory(w, r.memory!)],
    ['fail incomplete runs', () => r.processor!.failIncompleteRuns(at)],
    ['stranded approvals', () => resumeStrandedApprovals(w, r.heldBatches!, at)],
    ['unreported decisions', () => resumeDecisionReports(w, r.heldBatches!, at)],
    ['resume changesets', () => r.processor!.resumeAll()],
    ['purge after grace', () => r.sweeper!.purgeExpired(at)],
    ['prune changesets', () => r.sweeper!.pruneOldChangesets(at)],
    ['drop abandoned chunks', () => dropAbandonedChunks(w, r.chunkSweeper!, at)],
    // Real time, not `at`: lease expiry is judged by the replicas' wall clocks.
    ['prune leases', () => r.leases!.prune(new Date(Date.now() - LEASE_RETENTION_MS))],
  ];
  try {
    for (const [step, run] of steps) {
      r.sweepStep = step;
      await run();
    }
  } finally {
    r.sweepStep = undefined;
  }
}

/**
 * Staged chunks no run will read — above all those of runs whose marker never came, once their newest
 * chunk is older than INCOMPLETE_RUN_TIMEOUT_MS (docs/roster-model.md › Staged chunks: how long they stay).
 */
async function dropAbandonedChunks(w: Wiring, sweeper: StagedChunkSweeper, at: Date): Promise<void> {
  for (const { reason } of await sweeper.dropAbandoned(at)) w.own.stagedRunsDropped.inc({ reason });
}

/** Approvals whose process died before creating their changeset (HeldBatches.resumeStrandedApprovals). */
async function resumeStrandedApprovals(w: Wiring, heldBatches: HeldBatches, at: Date): Promise<void> {
  const { resumed, failed } = await heldBatches.resumeStrandedApprovals(at);
  if (resumed.length > 0)
    w.logger.warn({ batchIds: resumed }, 'approved held batches had no changeset (a process died); created');
  for (const { tenantId, batchId, err } of failed)
    w.logger.warn({ err, tenantId, batchId }, 'stranded approval not resumed; tried again at the next sweep');
}

/** Discarded or superseded batches whose process died before reporting them (HeldBatches.resumeDecisionReports). */
async function resumeDecisionReports(w: Wiring, heldBatches: HeldBatches, at: Date): Promise<void> {
  const { resumed, failed } = await heldBatches.resumeDecisionReports(at);
  if (resumed.length > 0)
    w.logger.warn(
      { batchIds: resumed },
      'discarded or superseded held batches had not been reported (a process died); reported',
    );
  for (const { tenantId, batchId, err } of failed)
    w.logger.warn(
      { err, tenantId, batchId },
      'held batch decision not reported; tried again at the next sweep',
    );
}

/**
 * Drops what this replica has not used for a while — a school's images after IMAGE_MEMORY_IDLE_MS
 * (longer than an hourly schedule: a school synced here keeps them), a run's chunks once it could
 * only time out — and refreshes their gauges (every sweep).
 */
function expireMemory(w: Wiring, memory: RosterMemory): void {
  memory.images.expire(IMAGE_MEMORY_IDLE_MS);
  memory.chunks.expire(w.config.INCOMPLETE_RUN_TIMEOUT_MS);
  w.own.memoryImages.set(memory.images.size);
  w.own.memoryChunkBytes.set(memory.chunks.bytes);
}

/** Refreshes the held-batch gauges (every sweep); a failure only leaves them as they were. */
async function measureHeld(w: Wiring, store: RosterStore, at: Date): Promise<void> {
  try {
    const { count, oldestCreatedAt } = await store.pendingBatchStats();
    w.own.heldPending.set(count);
    w.own.heldOldestAge.set(
      oldestCreatedAt ? Math.max(0, (at.getTime() - oldestCreatedAt.getTime()) / 1000) : 0,
    );
  } catch (err) {
    w.logger.warn({ err }, 'held-batch metrics not refreshed; retried at the next sweep');
  }
}

/**
 * Sweeps every SWEEP_INTERVAL_MS, one at a time (libs/runtime `startPeriodic`); a sweep still
 * running after ten intervals is logged with the step it is at (`Running.sweepStep`).
 */
function startSweeps(w: Wiring, r: Running, sweep: () => Promise<void>): PeriodicTask {
  return startPeriodic(sweep, {
    name: 'sweep',
    intervalMs: w.config.SWEEP_INTERVAL_MS,
    logger: w.logger,
    progress: () => r.sweepStep,
  });
}

// ---- start and stop -----------------------------------------------------------------------------

/**
 * Health first (ops and gRPC health listening, not ready), then database and broker, use-cases, the
 * legacy migration and the resume of unfinished work, then the RosterService, the raw-datasets
 * consumer (up to its first join), the sampler and the sweeper; ready last. Each step waits while
 * the dependency it needs is unreachable, also one lost after the first connection.
 */
async function startRoster(w: Wiring, r: Running, sweep: () => Promise<void>): Promise<void> {
  const { config, logger } = w;
  await shell.openServiceHealth(config, {
    ...w,
    service: 'roster',
    parts: r,
    kafka: { config },
    grpc: { config, identity: w.identity },
  });
  const { kafka, producer } = await shell.startServiceInfra(config, {
    service: 'roster',
    logger,
    parts: r,
    prepare: (mongo) => prepareDatabase(w, r, mongo),
    // Change events carry before/after images: requests are cut by bytes (the producer's default ~900 kB).
    producer: { maxBatchSize: 1000 },
    topics: rosterTopicSpecs(w.topics),
    onTopicMismatch: 'error',
  });
  const core = buildUseCases(w, r, r.store!, r.leases!, producer);
  await finishPreviousWork(w, r, core.processor);
  serveGrpc(w, r.grpc!, core);
  await shell.startServiceConsumer(rawDatasetsConsumerOptions(w, kafka, core), { logger, parts: r });
  r.sampler = startLagSampler(w, kafka);
  if (!w.overrides.disableSweeper) r.sweeps = startSweeps(w, r, sweep);
  shell.serviceStarted(r);
  logger.info(
    { grpcPort: r.grpc!.port, opsPort: r.ops!.port, leaseOwner: r.leases!.owner },
    'roster started',
  );
}

/**
 * The sweeper off; the gRPC server, the consumer, the sweep under way and the background changesets
 * (drained), then the producer, the ops server, the database (libs/service-shell `stopService`).
 */
async function stopRoster(w: Wiring, r: Running): Promise<void> {
  const sweepUnderWay = r.sweeps?.stop();
  await shell.stopService(w.logger, w.config, r, {
    drain: [
      ['consumer', () => r.consumer?.stop()],
      ['sweep under way', () => sweepUnderWay],
      ['background changesets', () => w.background.idle()],
    ],
  });
}

// ---- adapters -----------------------------------------------------------------------------------

/** The roster store (its indexes) and the per-school leases of this replica. */
async function prepareDatabase(w: Wiring, r: Running, mongo: MongoConnection): Promise<void> {
  const store = (r.store = new RosterStore(mongo.db));
  await store.init();
  r.leases = new TenantLeases(mongo.db, {
    owner: processOwnerId(),
    ttlMs: w.config.TENANT_LEASE_TTL_MS,
    logger: w.logger,
  });
}

// ---- use-cases ----------------------------------------------------------------------------------

/** The changeset processor over the roster publisher, then held batches, queries, the grace sweeper and the staged-chunk sweeper. */
function buildUseCases(
  w: Wiring,
  r: Running,
  store: RosterStore,
  leases: TenantLeases,
  producer: EventProducer,
): UseCases {
  const { config, now } = w;
  const publisher = createRosterPublisher(producer, w.topics);
  const memory: RosterMemory = (r.memory = {
    chunks: new StagedChunkMemory(config.STAGED_CHUNK_MEMORY_MB * 1024 * 1024),
    images: new ImageMemory(config.IMAGE_MEMORY_ENTITIES),
  });
  const processor = (r.processor = createProcessor(w, store, leases, publisher, memory));
  const heldBatches = (r.heldBatches = new HeldBatches(store, processor, publisher, now));
  const queries = (r.queries = new RosterQueries(
    store,
    processor,
    { percent: config.HOLD_THRESHOLD_PERCENT, min: config.HOLD_THRESHOLD_MIN },
    now,
  ));
  const sweeper = (r.sweeper = new GraceSweeper(
    store,
    publisher,
    processor,
    w.logger,
    config.REMOVAL_GRACE_DAYS,
  ));
  r.chunkSweeper = new StagedChunkSweeper({
    store,
    processor,
    logger: w.logger,
    retentionMs: config.INCOMPLETE_RUN_TIMEOUT_MS,
    graceDays: config.REMOVAL_GRACE_DAYS,
    memory: memory.chunks,
  });
  return { store, processor, heldBatches, queries, sweeper, memory };
}

/** The changeset processor; its run updates count finished changesets by outcome. */
function createProcessor(
  w: Wiring,
  store: RosterStore,
  leases: TenantLeases,
  publisher: RosterPublisher,
  memory: RosterMemory,
): ChangesetProcessor {
  const { config, overrides } = w;
  return new ChangesetProcessor({
    store,
    memory,
    publisher: {
      ...publisher,
      publishRunUpdate: async (e) => {
        await publisher.publishRunUpdate(e);
        const status = (e.data as { status: string }).status;
        if (status !== 'applying') w.own.runsProcessed.inc({ outcome: status });
      },
    },
    logger: w.logger,
    graceDays: config.REMOVAL_GRACE_DAYS,
    defaultThresholds: {
      default: { percent: config.HOLD_THRESHOLD_PERCENT, min: config.HOLD_THRESHOLD_MIN },
    },
    incompleteRunTimeoutMs: config.INCOMPLETE_RUN_TIMEOUT_MS,
    leases,
    leaseWaitMs: config.TENANT_LEASE_WAIT_MS,
    onTenantBusy: (mode) => w.own.tenantBusy.inc({ mode }),
    // Admin approvals and undos are applied in the background: `stop` drains them.
    background: w.background.track,
    now: w.now,
    ...(overrides.beforeStep === undefined ? {} : { beforeStep: overrides.beforeStep }),
  });
}

/**
 * Before taking new work: migrate a pre-#17 roster (tried again while the database, lost meanwhile,
 * is unreachable: each school's migration is idempotent), then finish what a previous process left
 * half done.
 */
async function finishPreviousWork(w: Wiring, r: Running, processor: ChangesetProcessor): Promise<void> {
  // A roster stored before #17 (packed buckets) becomes entity documents + manifests first.
  await shell.serviceStartStep('legacy migration', () => processor.migrateLegacyRoster(), {
    logger: w.logger,
    parts: r,
  });
  // Finish whatever a previous process left half done before taking new work.
  await processor
    .resumeAll({ rebuild: true })
    .catch((err: unknown) => w.logger.warn({ err }, 'resume on start failed; retried at the next sweep'));
}

// ---- servers and background work ----------------------------------------------------------------

/** The RosterService on the gRPC server (callers: `ROSTER_CALLERS`). */
function serveGrpc(w: Wiring, grpc: GrpcServerHandle, core: UseCases): void {
  const { config } = w;
  shell.serveServiceGrpc<RosterServiceProtoGrpcType>(config, grpc, {
    proto: 'isams_sync/roster/v1/roster_service.proto',
    name: 'isams_sync.roster.v1.RosterService',
    definition: (pkg) => pkg.isams_sync.roster.v1.RosterService.service,
    implementation: rosterGrpcHandlers({
      queries: core.queries,
      heldBatches: core.heldBatches,
      runUndo: new RunUndo(core.store, core.processor, config.REMOVAL_GRACE_DAYS, w.now),
    }),
    callers: ROSTER_CALLERS,
  });
}

/** The raw-datasets consumer group (its lag counted from the beginning, as it starts). */
function rawDatasetsGroup(w: Wiring): shell.ServiceConsumerGroup {
  return { groupId: w.config.RAW_DATASETS_GROUP_ID, topic: w.topics.rawDatasets, fromBeginning: true };
}

/** Raw-datasets events handled together at most (chunks of up to 512 KiB each by default). */
const RAW_EVENTS_PER_BATCH = 32;
/** One fetch of a raw-datasets partition: room for 16 default-sized chunks (kafkajs' default is 1 MiB: two). */
const RAW_FETCH_BYTES_PER_PARTITION = 8 * 1024 * 1024;

/** The raw-datasets consumer: each consumed run becomes a changeset processed in the background. */
function rawDatasetsConsumerOptions(w: Wiring, kafka: KafkaClient, core: UseCases): RunConsumerOptions {
  return {
    ...shell.serviceConsumerOptions(w.config, {
      ...w,
      kafka,
      group: rawDatasetsGroup(w),
      sessionTimeoutMs: w.overrides.sessionTimeoutMs,
    }),
    // A fetch's chunks are staged together (several writes in flight, one offset commit).
    ...rawDatasetsHandlers({
      store: core.store,
      processor: core.processor,
      now: w.now,
      background: w.background.track,
      chunks: core.memory.chunks,
    }),
    maxBatchSize: RAW_EVENTS_PER_BATCH,
    maxBytesPerPartition: RAW_FETCH_BYTES_PER_PARTITION,
  };
}

/** Samples the raw-datasets consumer group's lag into the metrics. */
function startLagSampler(w: Wiring, kafka: KafkaClient): Sampler {
  return shell.startConsumerLagSampler(w.config, { ...w, kafka, group: rawDatasetsGroup(w) });
}
