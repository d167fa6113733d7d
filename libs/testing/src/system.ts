import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadServiceKeyring, writeServiceKeys } from '@isams-sync/grpc';
import type { ClientIdentity } from '@isams-sync/grpc';
import { MongoClient } from 'mongodb';
import { getTestInfra, uniqueName, type TestInfra } from './infra';
import { freePort, startServiceProcess, type ServiceProcess } from './processes';
import { createTestTopics, deleteTestTopics } from './resources';
import { rosterTopicEnv } from './roster-env';
import { startSimulator, type SimulatorProcess } from './simulator';

/** The whole system running as real processes on the real Kafka and MongoDB-wire database. */
export interface RunningSystem {
  readonly gatewayUrl: string;
  /** The gateway's operator listener (token administration; not the public API). */
  readonly operatorUrl: string;
  readonly simulator: SimulatorProcess;
  readonly connectorAddress: string;
  readonly rosterAddress: string;
  readonly bookingsAddress: string;
  /** Each service's ops server (`/metrics`, `/health`, `/ready`), e.g. `http://127.0.0.1:9464`. */
  readonly opsUrls: Readonly<Record<'connector' | 'roster' | 'bookings' | 'gateway', string>>;
  readonly operatorToken: string;
  /** The service-identity keys of this system (`GRPC_IDENTITY_DIR` of every service). */
  readonly identityDir: string;
  /** The identity a test client calls `audience` with, as `as` (default `gateway`). */
  clientIdentity(audience: string, as?: string): ClientIdentity;
  /** Each service's process, for crash tests (`kill9()`, `restart()`). */
  readonly processes: Readonly<Record<'connector' | 'roster' | 'bookings' | 'gateway', ServiceProcess>>;
  /** The topics and databases this system uses (fresh ones per system). */
  readonly topics: Readonly<
    Record<'raw' | 'runs' | 'changes' | 'state' | 'changesDirectory' | 'stateDirectory' | 'bookings', string>
  >;
  readonly databases: Readonly<Record<'connector' | 'roster' | 'bookings' | 'gateway', string>>;
  /** The tail of every process's log (for failure messages). */
  logs(): string;
  /** Issues a school admin token through the gateway's operator listener. */
  issueToken(tenantId: string, label?: string): Promise<string>;
  /** Stops every process (SIGTERM, then SIGKILL), deletes the topics and drops the databases (unless `keepDatabases`). */
  stop(options?: SystemStopOptions): Promise<void>;
}

export interface SystemStopOptions {
  /**
   * Leaves the system's databases in place. For a caller that cut a sync off: the write a killed
   * service was waiting on may still run inside FerretDB, and FerretDB 1.24 on SQLite crashes
   * (SIGBUS in its WAL reader) when a database file it is reading is dropped (docs/local-infra.md).
   */
  readonly keepDatabases?: boolean;
}

export interface StartSystemOptions {
  /** Endpoints; defaults to the test infrastructure chosen by the global setup. */
  readonly infra?: Pick<TestInfra, 'kafkaBrokers' | 'mongoUrl'>;
  /** Roster removal brake: hold when removals exceed this percent AND this count. */
  readonly holdPercent?: number;
  readonly holdMin?: number;
  /** Log level of every service (default `warn`). */
  readonly logLevel?: string;
  /** Where the services' logs go (default `.cache/test-logs`). */
  readonly logDir?: string;
  /** Extra environment per service. */
  readonly env?: Partial<Record<'connector' | 'roster' | 'bookings' | 'gateway', Record<string, string>>>;
}

type ServiceName = 'connector' | 'roster' | 'bookings' | 'gateway';

/** What one system is made of before any process starts: fresh topics, databases, ports, directories and keys. */
interface SystemPlan {
  readonly infra: Pick<TestInfra, 'kafkaBrokers' | 'mongoUrl'>;
  /** Tells this system's processes and databases apart from other systems'. */
  readonly suffix: string;
  readonly topics: RunningSystem['topics'];
  readonly databases: RunningSystem['databases'];
  readonly ports: SystemPorts;
  readonly spoolDir: string;
  readonly identityDir: string;
  readonly operatorToken: string;
  /** The environment every service gets. */
  readonly common: Record<string, string>;
}

/** Each service's listeners: gRPC (the gateway: HTTP and operator) and ops. */
interface SystemPorts {
  readonly connector: { readonly grpc: number; readonly ops: number };
  readonly roster: { readonly grpc: number; readonly ops: number };
  readonly bookings: { readonly grpc: number; readonly ops: number };
  readonly gateway: { readonly http: number; readonly ops: number; readonly operator: number };
}

/** What has been started so far: `stopSystem` stops exactly that, also after a start that failed half-way. */
interface Started {
  readonly processes: ServiceProcess[];
  simulator?: SimulatorProcess;
}

/** One system being started: its plan, the caller's options and what is up so far. */
interface Starting {
  readonly plan: SystemPlan;
  readonly options: StartSystemOptions;
  readonly started: Started;
}

/**
 * Starts the simulator, connector, roster, bookings and gateway as processes with fresh topics and
 * databases, and waits until each reports ready. Used by the gateway's browser tests, the
 * end-to-end suite and `npm run demo`.
 */
export async function startSystem(options: StartSystemOptions = {}): Promise<RunningSystem> {
  const plan = await prepareSystem(options);
  const s: Starting = { plan, options, started: { processes: [] } };
  const stop = (options: SystemStopOptions = {}) => stopSystem(plan, s.started, options);
  try {
    const simulator = (s.started.simulator = await startSimulator({ LOG_LEVEL: options.logLevel ?? 'warn' }));
    const [connector, roster] = await Promise.all([startConnector(s), startRoster(s)]);
    const bookings = await startBookings(s);
    const gateway = await startGateway(s);
    return systemHandle(plan, simulator, { connector, roster, bookings, gateway }, stop);
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

// ---- preparation --------------------------------------------------------------------------------

/** Fresh topics, database names, free ports, spool and identity directories, the operator token. */
async function prepareSystem(options: StartSystemOptions): Promise<SystemPlan> {
  const infra = options.infra ?? getTestInfra();
  const suffix = randomBytes(4).toString('hex');
  const topics = await createSystemTopics(infra.kafkaBrokers);
  const databases = {
    connector: `sys_connector_${suffix}`,
    roster: `sys_roster_${suffix}`,
    bookings: `sys_bookings_${suffix}`,
    gateway: `sys_gateway_${suffix}`,
  };
  const [connGrpc, connOps, rosterGrpc, rosterOps, bookGrpc, bookOps, gwHttp, gwOps, gwOperator] =
    await Promise.all(Array.from({ length: 9 }, () => freePort()));
  const ports = {
    connector: { grpc: connGrpc, ops: connOps },
    roster: { grpc: rosterGrpc, ops: rosterOps },
    bookings: { grpc: bookGrpc, ops: bookOps },
    gateway: { http: gwHttp, ops: gwOps, operator: gwOperator },
  };
  const spoolDir = mkdtempSync(join(tmpdir(), 'isams-sync-spool-'));
  // Fresh service-identity keys per system, as the chart generates per release.
  const identityDir = writeServiceKeys(mkdtempSync(join(tmpdir(), 'isams-sync-identity-')));
  const common = {
    NODE_ENV: 'test',
    LOG_LEVEL: options.logLevel ?? 'warn',
    KAFKA_BROKERS: infra.kafkaBrokers.join(','),
    KAFKA_TOPIC_REPLICATION_FACTOR: '1',
    MONGO_URL: infra.mongoUrl,
    GRPC_IDENTITY_DIR: identityDir,
  };
  const operatorToken = `op-${randomUUID()}-${randomUUID()}`;
  return { infra, suffix, topics, databases, ports, spoolDir, identityDir, operatorToken, common };
}

/**
 * Created before the services start: two services ensuring the same fresh topic at once race
 * (a consumer may subscribe before the partition has a leader).
 */
async function createSystemTopics(kafkaBrokers: string[]): Promise<RunningSystem['topics']> {
  const [raw, runs, changes, state, bookingsTopic, changesDirectory, stateDirectory] = await createTestTopics(
    [
      { prefix: 'raw', partitions: 12 },
      { prefix: 'runs', partitions: 12 },
      { prefix: 'changes', partitions: 12 },
      { prefix: 'state', partitions: 12, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
      { prefix: 'bookings', partitions: 12 },
      { prefix: 'changes-directory', partitions: 12 },
      {
        prefix: 'state-directory',
        partitions: 12,
        configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
      },
    ],
    kafkaBrokers,
  );
  return {
    raw: raw!,
    runs: runs!,
    changes: changes!,
    state: state!,
    changesDirectory: changesDirectory!,
    stateDirectory: stateDirectory!,
    bookings: bookingsTopic!,
  };
}

// ---- processes ----------------------------------------------------------------------------------

/**
 * Starts one service with the common environment, its ports and database, and its own environment
 * (the caller's `env` last), and waits until `/ready` answers.
 */
async function startService(
  { plan, options, started }: Starting,
  name: ServiceName,
  env: Record<string, string>,
): Promise<ServiceProcess> {
  const ports = plan.ports[name];
  const opsPort = ports.ops;
  const proc = await startServiceProcess({
    name: `${name}-${plan.suffix}`,
    entry: `services/${name}/src/main.ts`,
    env: {
      ...plan.common,
      OPS_PORT: String(opsPort),
      ...('grpc' in ports ? { GRPC_PORT: String(ports.grpc) } : {}),
      MONGO_DB: plan.databases[name],
      ...env,
      ...options.env?.[name],
    },
    ready: { url: `http://127.0.0.1:${opsPort}/ready`, timeoutMs: 120_000 },
    ...(options.logDir ? { logDir: options.logDir } : {}),
  });
  started.processes.push(proc);
  return proc;
}

function startConnector(s: Starting): Promise<ServiceProcess> {
  const { topics, spoolDir } = s.plan;
  return startService(s, 'connector', {
    RAW_DATASETS_TOPIC: topics.raw,
    SYNC_RUNS_TOPIC: topics.runs,
    SYNC_RUNS_GROUP_ID: uniqueName('connector-runs'),
    CONNECTOR_KEK: randomBytes(32).toString('base64'),
    // The simulator listens on loopback: the development settings, explicitly.
    CONNECTOR_ALLOW_PRIVATE_EGRESS: 'true',
    ISAMS_ALLOW_INSECURE_LOOPBACK: 'true',
    SCHEDULER_ENABLED: 'false',
    MANUAL_TRIGGER_LIMIT: '100',
    SPOOL_DIR: spoolDir,
    PROGRESS_INTERVAL_MS: '200ms',
  });
}

function startRoster(s: Starting): Promise<ServiceProcess> {
  const { topics } = s.plan;
  return startService(s, 'roster', {
    ...rosterTopicEnv(topics),
    RAW_DATASETS_GROUP_ID: uniqueName('roster-raw'),
    HOLD_THRESHOLD_PERCENT: String(s.options.holdPercent ?? 10),
    HOLD_THRESHOLD_MIN: String(s.options.holdMin ?? 5),
  });
}

function startBookings(s: Starting): Promise<ServiceProcess> {
  const { topics, ports } = s.plan;
  return startService(s, 'bookings', {
    ROSTER_CHANGES_TOPIC: topics.changes,
    BOOKINGS_EVENTS_TOPIC: topics.bookings,
    ROSTER_CHANGES_GROUP_ID: uniqueName('bookings-changes'),
    ROSTER_GRPC_ADDRESS: `127.0.0.1:${ports.roster.grpc}`,
  });
}

function startGateway(s: Starting): Promise<ServiceProcess> {
  const { ports } = s.plan;
  return startService(s, 'gateway', {
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(ports.gateway.http),
    CONNECTOR_GRPC_ADDRESS: `127.0.0.1:${ports.connector.grpc}`,
    ROSTER_GRPC_ADDRESS: `127.0.0.1:${ports.roster.grpc}`,
    BOOKINGS_GRPC_ADDRESS: `127.0.0.1:${ports.bookings.grpc}`,
    GATEWAY_TOKEN_PEPPER: randomBytes(32).toString('hex'),
    GATEWAY_OPERATOR_TOKEN: s.plan.operatorToken,
    GATEWAY_OPERATOR_HOST: '127.0.0.1',
    GATEWAY_OPERATOR_PORT: String(ports.gateway.operator),
  });
}

/** Stops the services (last started first) and the simulator, removes the directories, drops the databases. */
async function stopSystem(plan: SystemPlan, started: Started, options: SystemStopOptions): Promise<void> {
  await Promise.all([...started.processes].reverse().map((p) => p.stop(15_000)));
  await started.simulator?.stop();
  rmSync(plan.spoolDir, { recursive: true, force: true });
  rmSync(plan.identityDir, { recursive: true, force: true });
  // The topics go in any case (a benchmark's system runs outside a test run, whose teardown would).
  await deleteTestTopics(Object.values(plan.topics), plan.infra.kafkaBrokers).catch(() => undefined);
  if (options.keepDatabases) return;
  const client = new MongoClient(plan.infra.mongoUrl, { serverSelectionTimeoutMS: 10_000 });
  try {
    await client.connect();
    for (const db of Object.values(plan.databases))
      await client
        .db(db)
        .dropDatabase()
        .catch(() => undefined);
  } finally {
    await client.close();
  }
}

// ---- the handle ---------------------------------------------------------------------------------

function systemHandle(
  plan: SystemPlan,
  simulator: SimulatorProcess,
  processes: RunningSystem['processes'],
  stop: (options?: SystemStopOptions) => Promise<void>,
): RunningSystem {
  const { ports, operatorToken, identityDir } = plan;
  const gatewayUrl = `http://127.0.0.1:${ports.gateway.http}`;
  const operatorUrl = `http://127.0.0.1:${ports.gateway.operator}`;
  return {
    gatewayUrl,
    operatorUrl,
    simulator,
    connectorAddress: `127.0.0.1:${ports.connector.grpc}`,
    rosterAddress: `127.0.0.1:${ports.roster.grpc}`,
    bookingsAddress: `127.0.0.1:${ports.bookings.grpc}`,
    opsUrls: {
      connector: `http://127.0.0.1:${ports.connector.ops}`,
      roster: `http://127.0.0.1:${ports.roster.ops}`,
      bookings: `http://127.0.0.1:${ports.bookings.ops}`,
      gateway: `http://127.0.0.1:${ports.gateway.ops}`,
    },
    operatorToken,
    identityDir,
    clientIdentity: (audience, as = 'gateway') => ({
      keyring: loadServiceKeyring(identityDir, as),
      audience,
    }),
    processes,
    topics: plan.topics,
    databases: plan.databases,
    logs: () =>
      [simulator.process, processes.connector, processes.roster, processes.bookings, processes.gateway]
        .map((p) => `--- ${p.name} (${p.logFile})\n${tail(p.logFile)}`)
        .join('\n'),
    issueToken: (tenantId, label = 'test') => issueToken(operatorUrl, operatorToken, tenantId, label),
    stop,
  };
}

/** Issues a school admin token through the gateway's operator listener. */
async function issueToken(
  operatorUrl: string,
  operatorToken: string,
  tenantId: string,
  label: string,
): Promise<string> {
  const res = await fetch(`${operatorUrl}/api/v1/operator/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${operatorToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ tenantId, label }),
  });
  if (res.status !== 201) throw new Error(`token issue failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

/**
 * A link that signs in to the Data Dashboard with `token`: the token rides in the URL fragment
 * (`/#token=…`), which the browser never sends to the server (so no access log holds it); the
 * dashboard (services/gateway/src/web/app.js) signs in with it and removes it from the address bar.
 */
export function dashboardSignInUrl(gatewayUrl: string, token: string): string {
  return `${gatewayUrl.replace(/\/+$/, '')}/#token=${encodeURIComponent(token)}`;
}

function tail(file: string, chars = 4000): string {
  return existsSync(file) ? readFileSync(file, 'utf8').slice(-chars) : '(no log)';
}
