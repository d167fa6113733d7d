import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { logTail } from './log-tail';
import { createConnection } from 'node:net';
import { resolve } from 'node:path';
import { createKafkaClient } from '@isams-sync/kafka';
import { createLogger } from '@isams-sync/logger';
import { MongoClient } from 'mongodb';
import {
  ensureFerretDatabase,
  installIndexTwins,
  initPostgres,
  postgresBinDir,
  postgresCommand,
  postgresReady,
} from './postgres';
import {
  endpoints,
  ferretPostgresUrl,
  parseMongoBackend,
  postgresUrl,
  type InfraSettings,
  type MongoBackend,
} from './settings';
import { newKafkaClusterId } from './kafka-cluster-id';
import type { Log } from './provision';

export type ServerName = 'kafka' | 'ferretdb' | 'postgres';
export interface ServerStatus {
  readonly name: ServerName;
  readonly pid: number | undefined;
  readonly running: boolean;
  readonly ready: boolean;
  readonly endpoint: string;
  readonly log: string;
}

const pidFile = (s: InfraSettings, name: ServerName) => resolve(s.stateDir, `${name}.pid`);
const logFile = (s: InfraSettings, name: ServerName) => resolve(s.stateDir, `logs/${name}.log`);
/** The backend the running FerretDB was started with (written next to its pid file). */
const backendFile = (s: InfraSettings) => resolve(s.stateDir, 'ferretdb.backend');

/** True when `pid` is alive AND is the process we started (its command line names our state dir). */
function isOurs(s: InfraSettings, pid: number): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes(s.stateDir);
  } catch {
    return false;
  }
}

/**
 * The backend of the FerretDB running from this state dir, or undefined when none runs. A FerretDB
 * started before backends were selectable has no backend file: it is SQLite.
 */
export function runningBackend(s: InfraSettings): MongoBackend | undefined {
  const pid = readPid(s, 'ferretdb');
  if (pid === undefined || !isOurs(s, pid)) return undefined;
  if (!existsSync(backendFile(s))) return 'sqlite';
  return parseMongoBackend(readFileSync(backendFile(s), 'utf8'), backendFile(s));
}

function readPid(s: InfraSettings, name: ServerName): number | undefined {
  const file = pidFile(s, name);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function portInUse(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolvePromise(true);
    });
    socket.once('error', () => resolvePromise(false));
  });
}

function writeKafkaProperties(s: InfraSettings): string {
  const dataDir = resolve(s.stateDir, 'kafka-data');
  mkdirSync(dataDir, { recursive: true });
  // Java properties files have no inline comments; see shared docs local-infra.md for each line.
  const props = [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${s.kafkaControllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${s.kafkaPort},CONTROLLER://127.0.0.1:${s.kafkaControllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${s.kafkaPort}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${dataDir}`,
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'default.replication.factor=1',
    'min.insync.replicas=1',
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=false',
    'num.partitions=1',
    'log.retention.check.interval.ms=60000',
    'message.max.bytes=10485760',
    '',
  ].join('\n');
  const file = resolve(s.stateDir, 'server.properties');
  writeFileSync(file, props);
  return file;
}

function java(s: InfraSettings, mainClass: string, args: string[]): string[] {
  return [
    // 1 GiB: every test creates its own topics, and a long-lived dev broker that has collected
    // ~17,000 partitions ran out of a 512 MiB heap (docs/local-infra.md › Long-lived brokers).
    '-Xms512m',
    '-Xmx1g',
    '-XX:+UseG1GC',
    `-Disams.sync.local.infra=${s.stateDir}`,
    '-cp',
    `${s.kafkaLibsDir}/*`,
    mainClass,
    ...args,
  ];
}

function formatKafkaStorage(s: InfraSettings, propsFile: string, log: Log): void {
  const clusterIdFile = resolve(s.stateDir, 'kafka-cluster-id');
  if (!existsSync(clusterIdFile)) writeFileSync(clusterIdFile, newKafkaClusterId());
  const clusterId = readFileSync(clusterIdFile, 'utf8').trim();
  const result = spawnSync(
    'java',
    java(s, 'kafka.tools.StorageTool', ['format', '-t', clusterId, '-c', propsFile, '--ignore-formatted']),
    {
      encoding: 'utf8',
    },
  );
  if (result.status !== 0) {
    throw new Error(
      `kafka storage format failed (exit ${result.status}):\n${(result.stderr || result.stdout).slice(-3000)}`,
    );
  }
  log(`kafka: storage ready (cluster ${clusterId})`);
}

function startDetached(s: InfraSettings, name: ServerName, cmd: string, args: string[]): number {
  mkdirSync(resolve(s.stateDir, 'logs'), { recursive: true });
  const out = openSync(logFile(s, name), 'a');
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', out, out], cwd: s.stateDir });
  if (child.pid === undefined) throw new Error(`${name}: could not start ${cmd}`);
  child.unref();
  writeFileSync(pidFile(s, name), String(child.pid));
  return child.pid;
}

export async function kafkaReady(brokers: string, timeoutMs: number): Promise<boolean> {
  const client = createKafkaClient({
    clientId: 'local-infra-probe',
    brokers: [brokers],
    logger: createLogger({ service: 'local-infra-probe', level: 'silent' }),
    connectionTimeoutMs: 1000,
    requestTimeoutMs: 2000,
    retry: { retries: 0 },
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const cluster = await client.describeCluster();
      if (cluster.brokers > 0 && cluster.controller !== null) return true;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

export async function mongoReady(url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 1000, connectTimeoutMS: 1000 });
    try {
      await client.connect();
      await client.db('admin').command({ ping: 1 });
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await client.close().catch(() => undefined);
    }
  }
  return false;
}

async function startServer(
  s: InfraSettings,
  name: ServerName,
  port: number,
  launch: () => number,
  ready: () => Promise<boolean>,
  log: Log,
): Promise<void> {
  const existing = readPid(s, name);
  if (existing !== undefined && isOurs(s, existing)) {
    if (await ready()) {
      log(`${name}: already running (pid ${existing})`);
      return;
    }
    throw new Error(
      `${name}: pid ${existing} is running but not ready; see ${logFile(s, name)} or run infra:down`,
    );
  }
  if (await portInUse(port)) {
    throw new Error(
      `${name}: port ${port} on 127.0.0.1 is already in use by another process. Stop it, or choose other ports ` +
        `with LOCAL_KAFKA_PORT / LOCAL_KAFKA_CONTROLLER_PORT / LOCAL_MONGO_PORT / LOCAL_POSTGRES_PORT.`,
    );
  }
  const pid = launch();
  log(`${name}: started pid ${pid}, waiting for readiness…`);
  if (!(await ready())) {
    const tail = logTail(logFile(s, name), 3000);
    await stopServer(s, name, log);
    throw new Error(`${name}: not ready in time. Last log lines:\n${tail}`);
  }
  log(`${name}: ready`);
}

/**
 * Starts Kafka (unless `withKafka` is false) and FerretDB on the selected backend — for
 * `postgresql` first our own PostgreSQL server — and waits until each answers a real request.
 */
export async function up(s: InfraSettings, log: Log, opts: { withKafka?: boolean } = {}): Promise<void> {
  const withKafka = opts.withKafka !== false;
  const missing = [
    withKafka && !existsSync(s.kafkaLibsDir) ? 'Kafka jars' : '',
    !existsSync(s.ferretBinary) ? 'the FerretDB binary' : '',
    s.mongoBackend === 'postgresql' && !postgresBinDir() ? 'PostgreSQL' : '',
  ].filter(Boolean);
  if (missing.length > 0) {
    throw new Error(
      `local infrastructure is not provisioned (${missing.join(', ')}): run \`npm run infra:provision -- --backend ${s.mongoBackend}\` (or \`npm run infra:up\`, which provisions first)`,
    );
  }
  const running = runningBackend(s);
  if (running !== undefined && running !== s.mongoBackend) {
    throw new Error(
      `ferretdb: already running on the ${running} backend from ${s.stateDir}; run \`npm run infra:down\` first to switch to ${s.mongoBackend} (each backend keeps its own data)`,
    );
  }
  mkdirSync(s.stateDir, { recursive: true });
  const e = endpoints(s);
  const startKafka = async () => {
    const props = writeKafkaProperties(s);
    formatKafkaStorage(s, props, log);
    await startServer(
      s,
      'kafka',
      s.kafkaPort,
      () => startDetached(s, 'kafka', 'java', java(s, 'kafka.Kafka', [props])),
      () => kafkaReady(e.kafkaBrokers, 90_000),
      log,
    );
  };
  const startPostgres = async () => {
    initPostgres(s, log);
    const { cmd, args } = postgresCommand(s);
    await startServer(
      s,
      'postgres',
      s.postgresPort,
      () => startDetached(s, 'postgres', cmd, args),
      () => postgresReady(s, 60_000),
      log,
    );
    await ensureFerretDatabase(s, log);
    await installIndexTwins(s, log);
  };
  const ferretArgs =
    s.mongoBackend === 'postgresql'
      ? ['--handler', 'postgresql', '--postgresql-url', ferretPostgresUrl(s)]
      : ['--handler', 'sqlite', '--data-dir', resolve(s.stateDir, 'ferretdb-data')];
  const startMongo = async () => {
    if (s.mongoBackend === 'postgresql') await startPostgres();
    await startServer(
      s,
      'ferretdb',
      s.mongoPort,
      () => {
        // The state dir is on FerretDB's command line so isOurs() recognises it on either backend.
        const pid = startDetached(s, 'ferretdb', s.ferretBinary, [
          '--listen-addr',
          `127.0.0.1:${s.mongoPort}`,
          ...ferretArgs,
          '--owner',
          s.stateDir,
        ]);
        writeFileSync(backendFile(s), s.mongoBackend);
        return pid;
      },
      () => mongoReady(e.mongoUrl, 30_000),
      log,
    );
  };
  const results = await Promise.allSettled([withKafka ? startKafka() : Promise.resolve(), startMongo()]);
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failures.length > 0) {
    // Leave nothing half-started behind.
    await down(s, log);
    throw new Error(
      failures.map((f) => (f.reason instanceof Error ? f.reason.message : String(f.reason))).join('\n'),
    );
  }
  const recorded = withKafka ? e : { mongoUrl: e.mongoUrl, mongoBackend: e.mongoBackend };
  writeFileSync(resolve(s.stateDir, 'endpoints.json'), JSON.stringify(recorded, null, 2) + '\n');
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

/**
 * Stops one recorded server: `signal` (SIGTERM; PostgreSQL gets SIGINT, its fast shutdown), then
 * SIGKILL after `graceMs`.
 */
export async function stopServer(
  s: InfraSettings,
  name: ServerName,
  log: Log,
  graceMs = 20_000,
  signal: NodeJS.Signals = name === 'postgres' ? 'SIGINT' : 'SIGTERM',
): Promise<void> {
  const pid = readPid(s, name);
  if (pid === undefined) {
    log(`${name}: not running`);
    return;
  }
  if (!isOurs(s, pid)) {
    log(`${name}: pid ${pid} is gone (or not ours); clearing its pid file`);
    rmSync(pidFile(s, name), { force: true });
    return;
  }
  process.kill(pid, signal);
  if (!(await waitForExit(pid, graceMs))) {
    log(`${name}: still running after ${graceMs} ms, sending SIGKILL`);
    process.kill(pid, 'SIGKILL');
    await waitForExit(pid, 5_000);
  }
  rmSync(pidFile(s, name), { force: true });
  log(`${name}: stopped (pid ${pid})`);
}

/** Stops everything recorded in the state dir: Kafka, and FerretDB before the PostgreSQL it uses. */
export async function down(s: InfraSettings, log: Log): Promise<void> {
  const stopMongo = async () => {
    await stopServer(s, 'ferretdb', log);
    await stopServer(s, 'postgres', log);
  };
  await Promise.all([stopServer(s, 'kafka', log), stopMongo()]);
  rmSync(backendFile(s), { force: true });
  rmSync(resolve(s.stateDir, 'endpoints.json'), { force: true });
}

export interface InfraStatus {
  /** The running FerretDB's backend, else the selected one. */
  readonly backend: MongoBackend;
  readonly servers: ServerStatus[];
}

/**
 * Every server this state dir uses: Kafka, FerretDB, and PostgreSQL when the backend is
 * `postgresql` (or a PostgreSQL of ours is still running). Readiness is a real request to each.
 */
export async function status(s: InfraSettings, opts: { withKafka?: boolean } = {}): Promise<InfraStatus> {
  const { kafkaBrokers, mongoUrl } = endpoints(s);
  const backend = runningBackend(s) ?? s.mongoBackend;
  const one = async (
    name: ServerName,
    endpoint: string,
    ready: () => Promise<boolean>,
  ): Promise<ServerStatus> => {
    const pid = readPid(s, name);
    const running = pid !== undefined && isOurs(s, pid);
    return { name, pid, running, ready: running ? await ready() : false, endpoint, log: logFile(s, name) };
  };
  const postgresPid = readPid(s, 'postgres');
  const withPostgres = backend === 'postgresql' || (postgresPid !== undefined && isOurs(s, postgresPid));
  const servers = await Promise.all([
    ...(opts.withKafka === false ? [] : [one('kafka', kafkaBrokers, () => kafkaReady(kafkaBrokers, 3_000))]),
    one('ferretdb', `${mongoUrl} (${backend})`, () => mongoReady(mongoUrl, 3_000)),
    ...(withPostgres ? [one('postgres', postgresUrl(s), () => postgresReady(s, 3_000))] : []),
  ]);
  return { backend, servers };
}

/** Deletes the servers' data (only when stopped). */
export function wipe(s: InfraSettings): void {
  for (const name of ['kafka', 'ferretdb', 'postgres'] as const) {
    const pid = readPid(s, name);
    if (pid !== undefined && isOurs(s, pid)) throw new Error(`${name} is running; run infra:down first`);
  }
  rmSync(resolve(s.stateDir, 'kafka-data'), { recursive: true, force: true });
  rmSync(resolve(s.stateDir, 'kafka-cluster-id'), { force: true });
  rmSync(resolve(s.stateDir, 'ferretdb-data'), { recursive: true, force: true });
  rmSync(s.postgresDataDir, { recursive: true, force: true });
}
