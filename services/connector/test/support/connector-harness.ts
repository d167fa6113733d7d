import { createHash, randomBytes, randomUUID } from 'node:crypto';
import {
  createGrpcClient,
  callMetadata,
  GrpcCallError,
  loadProtoPackage,
  promisifyUnary,
} from '@isams-sync/grpc';
import type { ConnectorServiceProtoGrpcType, connectorV1 } from '@isams-sync/grpc';
import {
  createEventProducer,
  createKafkaClient,
  fromKafkaMessage,
  readTopic as readKafkaTopic,
} from '@isams-sync/kafka';
import type { EventProducer, KafkaClient, TopicRecord } from '@isams-sync/kafka';
import { rawDatasetChunkV1, syncRunUpdatedV1 } from '@isams-sync/events';
import type { CloudEvent } from '@isams-sync/events';
import { createLogger } from '@isams-sync/logger';
import {
  eventually,
  getTestInfra,
  startSimulator,
  testClientIdentity,
  testServiceIdentityDir,
  uniqueName,
} from '@isams-sync/testing';
import type { EventuallyOptions, SimulatorProcess } from '@isams-sync/testing';
import { MongoClient } from 'mongodb';
import type { Document, Filter } from 'mongodb';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createConnectorApp } from '../../src/app';
import type { ConnectorApp, ConnectorAppOverrides } from '../../src/app';
import { loadConnectorConfig } from '../../src/config';
import { canonicalRawJson } from '../../src/domain/canonical-json';
import type { RunRecord } from '../../src/domain/run-record';
import type { RunStatus } from '../../src/domain/sync-run';

export function testKek(): string {
  return randomBytes(32).toString('base64');
}

/** Shared per-test-file environment: one database, one pair of topics, one KEK. */
export interface ConnectorTestEnv {
  mongoDb: string;
  rawTopic: string;
  runsTopic: string;
  kek: string;
  env(extra?: Record<string, string>): Record<string, string>;
  dropDatabase(): Promise<void>;
}

export function connectorTestEnv(): ConnectorTestEnv {
  const infra = getTestInfra();
  const mongoDb = uniqueName('connector').replace(/-/g, '_');
  const rawTopic = uniqueName('raw');
  const runsTopic = uniqueName('runs');
  const kek = testKek();
  return {
    mongoDb,
    rawTopic,
    runsTopic,
    kek,
    env: (extra = {}) => ({
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      OPS_PORT: '0',
      GRPC_PORT: '0',
      GRPC_IDENTITY_DIR: testServiceIdentityDir(),
      KAFKA_BROKERS: infra.kafkaBrokers.join(','),
      KAFKA_TOPIC_REPLICATION_FACTOR: '1',
      RAW_DATASETS_TOPIC: rawTopic,
      SYNC_RUNS_TOPIC: runsTopic,
      SYNC_RUNS_GROUP_ID: uniqueName('connector-runs'),
      MONGO_URL: infra.mongoUrl,
      MONGO_DB: mongoDb,
      CONNECTOR_KEK: kek,
      // The test hosts listen on loopback: the development settings, explicitly.
      CONNECTOR_ALLOW_PRIVATE_EGRESS: 'true',
      ISAMS_ALLOW_INSECURE_LOOPBACK: 'true',
      ISAMS_RETRY_ATTEMPTS: '2',
      ISAMS_RETRY_BASE_MS: '50ms',
      ISAMS_RETRY_MAX_MS: '100ms',
      ISAMS_READ_TIMEOUT_MS: '5s',
      SCHEDULER_TICK_MS: '300ms',
      SCHEDULE_JITTER_MS: '0',
      STALE_SWEEP_INTERVAL_MS: '500ms',
      RUN_LEASE_TTL_MS: '10s',
      PROGRESS_INTERVAL_MS: '100ms',
      SPOOL_DIR: `/tmp/connector-test-spool/${mongoDb}`,
      EGRESS_IPS: '203.0.113.10,203.0.113.11',
      ...extra,
    }),
    dropDatabase: async () => {
      const client = new MongoClient(infra.mongoUrl);
      await client.connect();
      await client.db(mongoDb).dropDatabase();
      await client.close();
    },
  };
}

export async function startConnector(
  env: Record<string, string>,
  overrides: ConnectorAppOverrides = {},
): Promise<ConnectorApp> {
  const app = createConnectorApp(loadConnectorConfig(env), { watchPollMs: 100, ...overrides });
  await app.start();
  return app;
}

/** How a school of a test is created on the simulator and saved, enabled, in the connector's settings. */
export interface EnrolledSchool {
  seed: number;
  size: 'small' | 'large';
  apiKey: string;
  scheduleMinutes?: number;
}

/**
 * Creates each school (`school(tenantId, index)` says how) on the simulator and saves its settings
 * (enabled, the simulator's URL) through a set-up connector with the scheduler off, stopped again
 * before the test's own connectors start: they all see the same saved schools.
 */
export async function enrolSchools(
  env: ConnectorTestEnv,
  sim: SimulatorProcess,
  tenants: readonly string[],
  school: (tenantId: string, index: number) => EnrolledSchool,
): Promise<void> {
  const setup = await startConnector(env.env({ SCHEDULER_ENABLED: 'false' }));
  const c = connectorClient(setup.grpcPort);
  try {
    for (const [i, tenantId] of tenants.entries()) await enrolSchool(sim, c, tenantId, school(tenantId, i));
  } finally {
    c.close();
    await setup.stop();
  }
}

/** Creates the school on the simulator and saves its settings (enabled, the simulator's URL) through `client`. */
export async function enrolSchool(
  sim: SimulatorProcess,
  client: ConnectorClient,
  tenantId: string,
  school: EnrolledSchool,
): Promise<void> {
  await sim.createSchool(tenantId, { seed: school.seed, size: school.size, apiKey: school.apiKey });
  await client.putSettings(
    {
      isamsUrl: sim.url,
      apiKey: school.apiKey,
      enabled: true,
      ...(school.scheduleMinutes === undefined ? {} : { scheduleMinutes: school.scheduleMinutes }),
    },
    client.md(tenantId),
  );
}

/**
 * A promise-based client of ConnectorService, calling as the gateway does (its service identity);
 * `rotateKeyEncryption` calls as the operator, the only identity allowed to.
 */
export function connectorClient(port: number) {
  const pkg = loadProtoPackage<ConnectorServiceProtoGrpcType>(
    'isams_sync/connector/v1/connector_service.proto',
  );
  const client = createGrpcClient(pkg.isams_sync.connector.v1.ConnectorService, `127.0.0.1:${port}`, {
    identity: testClientIdentity('connector', 'gateway'),
    deadlineMs: 30_000,
  });
  const operator = createGrpcClient(pkg.isams_sync.connector.v1.ConnectorService, `127.0.0.1:${port}`, {
    identity: testClientIdentity('connector', 'operator'),
    deadlineMs: 30_000,
  });
  const md = (tenantId: string, actor = 'admin:1') =>
    callMetadata({ tenantId, actor, requestId: randomUUID() });
  const getSyncRun = promisifyUnary(client, 'getSyncRun');
  return {
    raw: client,
    md,
    getSettings: promisifyUnary(client, 'getSettings'),
    putSettings: promisifyUnary(client, 'putSettings'),
    testConnection: promisifyUnary(client, 'testConnection'),
    getEgressInfo: promisifyUnary(client, 'getEgressInfo'),
    triggerSync: promisifyUnary(client, 'triggerSync'),
    getSyncRun,
    /** The run as GetSyncRun answers it, once its status is one of `statuses` (polled). */
    runReaching(tenantId: string, syncRunId: string, statuses: readonly string[], what: string) {
      return eventually(async () => {
        const r = await getSyncRun({ syncRunId }, md(tenantId));
        return statuses.includes(r.status) ? r : undefined;
      }, what);
    },
    listSyncRuns: promisifyUnary(client, 'listSyncRuns'),
    cancelSyncRun: promisifyUnary(client, 'cancelSyncRun'),
    getSyncStatus: promisifyUnary(client, 'getSyncStatus'),
    rotateKeyEncryption: promisifyUnary(operator, 'rotateKeyEncryption'),
    watch(tenantId: string, syncRunId: string): Promise<connectorV1.SyncRun__Output[]> {
      return new Promise((resolve, reject) => {
        const out: connectorV1.SyncRun__Output[] = [];
        const call = client.watchSyncRun({ syncRunId }, md(tenantId));
        call.on('data', (r: connectorV1.SyncRun__Output) => out.push(r));
        call.on('end', () => resolve(out));
        call.on('error', reject);
      });
    },
    close: () => client.close(),
  };
}
export type ConnectorClient = ReturnType<typeof connectorClient>;

/** The error a gRPC call of the connector was refused with (the test fails if the call succeeded). */
export async function grpcErrorOf(p: Promise<unknown>): Promise<GrpcCallError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'expected the call to be refused').toBeInstanceOf(GrpcCallError);
  return err as GrpcCallError;
}

/** What {@link useSimulatorAndEnv} starts for its describe block; filled in before the block's first test. */
export interface SimulatorAndEnv {
  sim: SimulatorProcess;
  env: ConnectorTestEnv;
}

/**
 * Registers the `beforeAll`/`afterAll` of the calling describe block: a simulator and a connector
 * environment on a fresh database and topics; the simulator stopped and the database dropped after
 * the block. Hooks the block registers later run after these start and before they stop.
 */
export function useSimulatorAndEnv(simulatorEnv?: Record<string, string>): SimulatorAndEnv {
  const world = {} as SimulatorAndEnv;
  beforeAll(async () => {
    world.sim = await startSimulator(simulatorEnv);
    world.env = connectorTestEnv();
  });
  afterAll(async () => {
    await world.sim?.stop();
    await world.env?.dropDatabase();
  });
  return world;
}

/** What {@link useConnectorSuite} starts for its describe block; filled in before the block's first test. */
export interface ConnectorSuite extends SimulatorAndEnv {
  app: ConnectorApp;
  client: ConnectorClient;
}

export interface ConnectorSuiteOptions {
  /** The connector's environment on top of `SCHEDULER_ENABLED=false`; a function is called as the suite starts. */
  env?: Record<string, string> | (() => Record<string, string>);
  overrides?: ConnectorAppOverrides;
  /** The simulator's environment (e.g. `SIM_SLOW_MS`). */
  simulatorEnv?: Record<string, string>;
}

/**
 * Registers the `beforeAll`/`afterAll` of the calling describe block: a simulator, an in-process
 * connector (scheduler off) on a fresh database and topics, and a gRPC client of it; all stopped and
 * the database dropped after the block. Hooks the block registers later run after these start and
 * before they stop.
 */
export function useConnectorSuite(options: ConnectorSuiteOptions = {}): ConnectorSuite {
  const suite = useSimulatorAndEnv(options.simulatorEnv) as ConnectorSuite;
  beforeAll(async () => {
    const extra = typeof options.env === 'function' ? options.env() : options.env;
    suite.app = await startConnector(
      suite.env.env({ SCHEDULER_ENABLED: 'false', ...extra }),
      options.overrides,
    );
    suite.client = connectorClient(suite.app.grpcPort);
  });
  afterAll(async () => {
    suite.client?.close();
    await suite.app?.stop();
  });
  return suite;
}

/** A producer standing in for the roster (it reports runs applied on the runs topic); disconnect it after use. */
export function fakeRosterProducer(): EventProducer {
  return createEventProducer(
    createKafkaClient({
      brokers: getTestInfra().kafkaBrokers,
      clientId: 'fake-roster',
      logger: createLogger({ service: 'fake-roster', level: 'warn' }),
    }),
  );
}

type ChangeCount = 'added' | 'updated' | 'removed' | 'restored' | 'unchanged' | 'held' | 'skipped';

/** A roster report of a run as the roster publishes it on the runs topic (`sync.run.updated` v1). */
export function rosterReportEvent(report: {
  tenantId: string;
  syncRunId: string;
  status: 'applying' | 'applied' | 'held' | 'discarded' | 'superseded';
  sequence: number;
  /** Per entity type; the counts not given are 0. */
  counts?: Record<string, Partial<Record<ChangeCount, number>>>;
  hold?: { batchId: string; kind: 'removals' | 'whole_run' };
}): CloudEvent {
  const { tenantId, syncRunId, status, sequence, counts, hold } = report;
  return syncRunUpdatedV1.create({
    tenantId,
    syncRunId,
    idParts: [syncRunId, 'roster', String(sequence)],
    data: {
      syncRunId,
      status,
      reportedBy: 'roster',
      sequence,
      at: new Date().toISOString(),
      trigger: { kind: 'manual' },
      dryRun: false,
      ...(counts
        ? {
            counts: Object.fromEntries(
              Object.entries(counts).map(([type, c]) => [
                type,
                { added: 0, updated: 0, removed: 0, restored: 0, unchanged: 0, held: 0, skipped: 0, ...c },
              ]),
            ),
          }
        : {}),
      ...(hold ? { heldBatchId: hold.batchId, holdKind: hold.kind } : {}),
    },
  }) as CloudEvent;
}

export interface TopicMessage {
  event: CloudEvent<unknown>;
  key: string;
  bytes: number;
  /** When the broker took it (its log-append or create time), ms since the epoch. */
  timestamp: number;
}

let reader: KafkaClient | undefined;
const readerClient = (): KafkaClient =>
  (reader ??= createKafkaClient({
    brokers: getTestInfra().kafkaBrokers,
    clientId: 'connector-test-reader',
    logger: createLogger({ service: 'connector-test-reader', level: 'silent' }),
  }));

const toTopicMessage = (r: TopicRecord): TopicMessage => ({
  event: fromKafkaMessage(r),
  key: r.key?.toString() ?? '',
  bytes: (r.value?.length ?? 0) + (r.key?.length ?? 0),
  timestamp: Number(r.timestamp),
});

/**
 * What a run that did not end `published` may have left on the raw topic: no marker (the commit
 * point), and only datasets published whole as they were read (while the document was still being
 * read) — every version (dataset, fingerprint) with all its chunks 0…n-1 and records whose
 * canonical lines hash to its fingerprint, never a cut dataset.
 */
export function expectUncommitted(msgs: readonly TopicMessage[], syncRunIds: Iterable<string>): void {
  const runs = new Set(syncRunIds);
  const versions = new Map<string, { chunkCount: number; chunks: Map<number, unknown[]> }>();
  for (const m of msgs) {
    const runId = m.event.syncrunid ?? '';
    if (!runs.has(runId)) continue;
    expect(m.event.type, `run ${runId} sent its marker`).toBe(rawDatasetChunkV1.type);
    const { data } = rawDatasetChunkV1.parse(m.event);
    const key = `${runId} ${data.datasetId} ${data.datasetFingerprint}`;
    const version = versions.get(key) ?? { chunkCount: data.chunkCount, chunks: new Map() };
    versions.set(key, version);
    expect(data.chunkCount, key).toBe(version.chunkCount);
    version.chunks.set(data.chunkIndex, data.records);
  }
  for (const [key, { chunkCount, chunks }] of versions) {
    expect(
      [...chunks.keys()].sort((a, b) => a - b),
      key,
    ).toEqual([...Array(chunkCount).keys()]);
    const hash = createHash('sha256');
    for (let i = 0; i < chunkCount; i++)
      for (const r of chunks.get(i)! as Parameters<typeof canonicalRawJson>[0][])
        hash.update(`${canonicalRawJson(r)}\n`);
    expect(hash.digest('hex'), key).toBe(key.split(' ')[2]);
  }
}

/** Reads a whole topic from the beginning until `until` says it has seen enough. */
export async function readTopic(
  topic: string,
  until: (msgs: TopicMessage[]) => boolean,
  timeoutMs = 30_000,
): Promise<TopicMessage[]> {
  const records = await readKafkaTopic(readerClient(), topic, {
    until: (rs) => until(rs.map(toTopicMessage)),
    timeoutMs,
  });
  return records.map(toTopicMessage);
}

/** A run document read straight from the database (no connector needed). */
export async function readRun(
  env: ConnectorTestEnv,
  tenantId: string,
  id: string,
): Promise<RunRecord | null> {
  const client = new MongoClient(getTestInfra().mongoUrl);
  await client.connect();
  try {
    return await client.db(env.mongoDb).collection<RunRecord>('sync_runs').findOne({ _id: id, tenantId });
  } finally {
    await client.close();
  }
}

/** The run once its stored status is one of `statuses` (read straight from the database). */
export function runReaching(
  env: ConnectorTestEnv,
  tenantId: string,
  id: string,
  statuses: readonly RunStatus[],
  what: string,
  options: EventuallyOptions,
): Promise<RunRecord> {
  return eventually(
    async () => {
      const r = await readRun(env, tenantId, id);
      return r && statuses.includes(r.status) ? r : undefined;
    },
    what,
    options,
  );
}

type StoredDocument = Document & { _id: string };

/** Documents of any connector collection, read straight from the database. */
export async function readCollection(
  env: ConnectorTestEnv,
  collection: string,
  filter: Filter<StoredDocument>,
): Promise<StoredDocument[]> {
  const client = new MongoClient(getTestInfra().mongoUrl);
  await client.connect();
  try {
    return await client.db(env.mongoDb).collection<StoredDocument>(collection).find(filter).toArray();
  } finally {
    await client.close();
  }
}

export async function deleteFromCollection(
  env: ConnectorTestEnv,
  collection: string,
  filter: Filter<StoredDocument>,
): Promise<void> {
  const client = new MongoClient(getTestInfra().mongoUrl);
  await client.connect();
  try {
    await client.db(env.mongoDb).collection<StoredDocument>(collection).deleteMany(filter);
  } finally {
    await client.close();
  }
}

/** Reads every message currently in the topic (up to its high watermarks). */
export async function readAll(topic: string): Promise<TopicMessage[]> {
  return (await readKafkaTopic(readerClient(), topic)).map(toTopicMessage);
}

/** A connector child process (see connector-child.ts). */
export interface ConnectorProcess {
  grpcPort: number;
  pid: number;
  /** True while the process has not exited. */
  alive(): boolean;
  /** Everything it wrote to stderr so far (also forwarded to the test's stderr). */
  stderr(): string;
  /** Everything it wrote to stdout so far (its log lines). */
  stdout(): string;
  /** Sends SIGKILL (if still running) and waits for the exit. */
  kill(): Promise<void>;
  exited: Promise<void>;
}

/** The connector as a child process (see connector-child.ts); `kill()` sends SIGKILL. */
export async function startConnectorProcess(env: Record<string, string>): Promise<ConnectorProcess> {
  const { spawn } = await import('node:child_process');
  const { resolve } = await import('node:path');
  const root = resolve(import.meta.dirname, '../../../..');
  // `node --import tsx` (not the tsx CLI, which runs the script in a grandchild): SIGKILL must hit the connector itself.
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'services/connector/test/support/connector-child.ts'],
    {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    process.stderr.write(d);
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const grpcPort = await new Promise<number>((resolvePort, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /READY (\d+)/.exec(out);
      if (m) resolvePort(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`connector process exited (${code}) before ready`)));
  });
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    grpcPort,
    pid: child.pid!,
    alive,
    stderr: () => err,
    stdout: () => out,
    exited,
    async kill() {
      if (alive()) child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * The connectors (in-process apps, child processes) and gRPC clients one test starts. The
 * `connectors` fixture of {@link connectorTest} stops them all after the test — also when it failed
 * or timed out — and refuses any start after that: vitest does not stop the body of a test that timed
 * out, and a connector it left running on the file's database would take the next tests' runs.
 */
export class ConnectorFleet {
  private readonly apps = new Set<ConnectorApp>();
  private readonly processes = new Set<ConnectorProcess>();
  private readonly clients = new Set<ConnectorClient>();
  private readonly starting = new Set<Promise<unknown>>();
  private readonly beforeStop: Array<() => void | Promise<void>> = [];
  private readonly closed = new AbortController();

  /** Aborted once the test ended and its connectors are being stopped (give it to `eventually`). */
  get signal(): AbortSignal {
    return this.closed.signal;
  }

  /** Starts an in-process connector, stopped with the fleet (or earlier by {@link stop}). */
  async start(env: Record<string, string>, overrides: ConnectorAppOverrides = {}): Promise<ConnectorApp> {
    return this.track(() =>
      startConnector(env, overrides).then((app) => {
        this.apps.add(app);
        return app;
      }),
    );
  }

  /** Stops one in-process connector now (e.g. before a restart). */
  async stop(app: ConnectorApp): Promise<void> {
    this.apps.delete(app);
    await app.stop();
  }

  /** Starts the connector as a child process, SIGKILLed with the fleet unless it exited before. */
  startProcess(env: Record<string, string>): Promise<ConnectorProcess> {
    return this.track(() =>
      startConnectorProcess(env).then((proc) => {
        this.processes.add(proc);
        void proc.exited.then(() => this.processes.delete(proc));
        return proc;
      }),
    );
  }

  /** A gRPC client of the connector on `port`, closed with the fleet. */
  client(port: number): ConnectorClient {
    this.assertOpen();
    const c = connectorClient(port);
    this.clients.add(c);
    return c;
  }

  /** Runs `fn` before the connectors are stopped (e.g. to release a replica a test paused). */
  onStop(fn: () => void | Promise<void>): void {
    this.beforeStop.push(fn);
  }

  /** Stops everything the test started; later starts are refused. */
  async stopAll(): Promise<void> {
    this.closed.abort(new Error('the test ended: its connectors were stopped'));
    const results = await Promise.allSettled(this.beforeStop.map(async (fn) => fn()));
    // A start that failed was reported by its test; what the others started is stopped below.
    await Promise.allSettled([...this.starting]);
    for (const c of this.clients) c.close();
    this.clients.clear();
    results.push(
      ...(await Promise.allSettled([
        ...[...this.processes].map((p) => p.kill()),
        ...[...this.apps].map((a) => this.stop(a)),
      ])),
    );
    const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (errors.length > 0) throw new AggregateError(errors, 'connectors not stopped cleanly');
  }

  private assertOpen(): void {
    this.closed.signal.throwIfAborted();
  }

  /** Starts something unless the fleet is stopped; `stopAll` waits for a start in progress, so what it starts is stopped too. */
  private async track<T>(start: () => Promise<T>): Promise<T> {
    this.assertOpen();
    const starting = start();
    this.starting.add(starting);
    try {
      const started = await starting;
      this.assertOpen();
      return started;
    } finally {
      this.starting.delete(starting);
    }
  }
}

/** `it` with a per-test {@link ConnectorFleet} (`connectors`), stopped after the test whatever its outcome. */
export const connectorTest = test.extend<{ connectors: ConnectorFleet }>({
  connectors: async ({}, use) => {
    const fleet = new ConnectorFleet();
    try {
      await use(fleet);
    } finally {
      await fleet.stopAll();
    }
  },
});
