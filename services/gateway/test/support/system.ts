import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestTopics, getTestInfra, uniqueName } from '@isams-sync/testing';
import { MongoClient } from 'mongodb';

const repoRoot = resolve(import.meta.dirname, '../../../..');

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => res(port));
    });
  });
}

interface ServiceProcess {
  name: string;
  child: ChildProcess;
  exited: boolean;
  stderrTail: string[];
}

let logLevels: Record<string, string> = {};

function startService(name: string, entry: string, env: Record<string, string>): ServiceProcess {
  const child = spawn(resolve(repoRoot, 'node_modules/.bin/tsx'), [entry], {
    cwd: repoRoot,
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: logLevels[name] ?? 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc: ServiceProcess = { name, child, exited: false, stderrTail: [] };
  child.stdout?.on('data', (chunk: Buffer) => {
    proc.stderrTail.push(chunk.toString());
    if (proc.stderrTail.length > 200) proc.stderrTail.shift();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    proc.stderrTail.push(chunk.toString());
    if (proc.stderrTail.length > 200) proc.stderrTail.shift();
  });
  child.once('exit', () => {
    proc.exited = true;
  });
  return proc;
}

async function waitReady(proc: ServiceProcess, url: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exited) throw new Error(`${proc.name} exited during start-up:\n${proc.stderrTail.join('')}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(`${proc.name} did not become ready at ${url}:\n${proc.stderrTail.join('')}`);
    await sleep(200);
  }
}

/** The whole system as processes: simulator, connector, roster, bookings, gateway (+ real Kafka/FerretDB). */
export interface RunningSystem {
  gatewayUrl: string;
  simulatorUrl: string;
  bookingsAddress: string;
  operatorToken: string;
  simulatorAdmin(method: string, path: string, body?: unknown): Promise<unknown>;
  /** Issues a school admin token through the operator endpoint. */
  issueToken(tenantId: string): Promise<string>;
  /** The last stderr lines of every service (for failure messages). */
  logs(): string;
  stop(): Promise<void>;
}

/** Starts every service with unique topics and databases; `stop()` ends them and drops the databases. */
export async function startSystem(options: {
  holdPercent: number;
  holdMin: number;
  logLevels?: Record<string, string>;
}): Promise<RunningSystem> {
  const infra = getTestInfra();
  logLevels = options.logLevels ?? {};
  const suffix = randomBytes(4).toString('hex');
  // Created before the services start: two services ensuring the same fresh topic at once race
  // (a consumer may subscribe before the partition has a leader and stop).
  const [raw, runs, changes, state, bookingsTopic] = await createTestTopics([
    { prefix: 'raw', partitions: 12 },
    { prefix: 'runs', partitions: 12 },
    { prefix: 'changes', partitions: 12 },
    { prefix: 'state', partitions: 12, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
    { prefix: 'bookings', partitions: 12 },
  ]);
  const topics = { raw: raw!, runs: runs!, changes: changes!, state: state!, bookings: bookingsTopic! };
  const dbs = {
    connector: `e2e_conn_${suffix}`,
    roster: `e2e_roster_${suffix}`,
    bookings: `e2e_book_${suffix}`,
    gateway: `e2e_gw_${suffix}`,
  };
  const [simPort, connGrpc, connOps, rosterGrpc, rosterOps, bookGrpc, bookOps, gwHttp, gwOps] =
    await Promise.all(Array.from({ length: 9 }, () => freePort()));
  const spoolDir = mkdtempSync(join(tmpdir(), 'e2e-spool-'));
  const kafka = {
    KAFKA_BROKERS: infra.kafkaBrokers.join(','),
    KAFKA_TOPIC_REPLICATION_FACTOR: '1',
    MONGO_URL: infra.mongoUrl,
  };
  const operatorToken = `op-${randomUUID()}-${randomUUID()}`;
  const procs: ServiceProcess[] = [];

  const stop = async () => {
    await Promise.all(
      procs.reverse().map(async (p) => {
        if (p.exited) return;
        const done = new Promise((r) => p.child.once('exit', r));
        p.child.kill('SIGTERM');
        const timer = setTimeout(() => p.child.kill('SIGKILL'), 15_000);
        await done;
        clearTimeout(timer);
      }),
    );
    rmSync(spoolDir, { recursive: true, force: true });
    const client = new MongoClient(infra.mongoUrl);
    try {
      await client.connect();
      for (const db of Object.values(dbs))
        await client
          .db(db)
          .dropDatabase()
          .catch(() => undefined);
    } finally {
      await client.close();
    }
  };

  try {
    const sim = startService('isams-simulator', 'services/isams-simulator/src/main.ts', {
      SIM_HOST: '127.0.0.1',
      SIM_PORT: String(simPort),
    });
    procs.push(sim);
    const connector = startService('connector', 'services/connector/src/main.ts', {
      ...kafka,
      GRPC_PORT: String(connGrpc),
      OPS_PORT: String(connOps),
      RAW_DATASETS_TOPIC: topics.raw,
      SYNC_RUNS_TOPIC: topics.runs,
      SYNC_RUNS_GROUP_ID: uniqueName('conn-runs'),
      MONGO_DB: dbs.connector,
      CONNECTOR_KEK: randomBytes(32).toString('base64'),
      ISAMS_ALLOW_INSECURE_LOOPBACK: 'true',
      SCHEDULER_ENABLED: 'false',
      MANUAL_TRIGGER_LIMIT: '100',
      SPOOL_DIR: spoolDir,
      PROGRESS_INTERVAL_MS: '200ms',
    });
    procs.push(connector);
    const roster = startService('roster', 'services/roster/src/main.ts', {
      ...kafka,
      GRPC_PORT: String(rosterGrpc),
      OPS_PORT: String(rosterOps),
      RAW_DATASETS_TOPIC: topics.raw,
      ROSTER_CHANGES_TOPIC: topics.changes,
      ROSTER_STATE_TOPIC: topics.state,
      SYNC_RUNS_TOPIC: topics.runs,
      RAW_DATASETS_GROUP_ID: uniqueName('roster-raw'),
      MONGO_DB: dbs.roster,
      HOLD_THRESHOLD_PERCENT: String(options.holdPercent),
      HOLD_THRESHOLD_MIN: String(options.holdMin),
    });
    procs.push(roster);
    const bookings = startService('bookings', 'services/bookings/src/main.ts', {
      ...kafka,
      GRPC_PORT: String(bookGrpc),
      OPS_PORT: String(bookOps),
      ROSTER_CHANGES_TOPIC: topics.changes,
      BOOKINGS_EVENTS_TOPIC: topics.bookings,
      ROSTER_CHANGES_GROUP_ID: uniqueName('book-changes'),
      MONGO_DB: dbs.bookings,
      ROSTER_GRPC_ADDRESS: `127.0.0.1:${rosterGrpc}`,
    });
    procs.push(bookings);
    const gateway = startService('gateway', 'services/gateway/src/main.ts', {
      MONGO_URL: infra.mongoUrl,
      MONGO_DB: dbs.gateway,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(gwHttp),
      OPS_PORT: String(gwOps),
      CONNECTOR_GRPC_ADDRESS: `127.0.0.1:${connGrpc}`,
      ROSTER_GRPC_ADDRESS: `127.0.0.1:${rosterGrpc}`,
      BOOKINGS_GRPC_ADDRESS: `127.0.0.1:${bookGrpc}`,
      GATEWAY_TOKEN_PEPPER: randomBytes(32).toString('hex'),
      GATEWAY_OPERATOR_TOKEN: operatorToken,
    });
    procs.push(gateway);

    await Promise.all([
      waitReady(sim, `http://127.0.0.1:${simPort}/health`),
      waitReady(connector, `http://127.0.0.1:${connOps}/ready`),
      waitReady(roster, `http://127.0.0.1:${rosterOps}/ready`),
      waitReady(bookings, `http://127.0.0.1:${bookOps}/ready`),
      waitReady(gateway, `http://127.0.0.1:${gwOps}/ready`),
    ]);
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }

  const gatewayUrl = `http://127.0.0.1:${gwHttp}`;
  const simulatorUrl = `http://127.0.0.1:${simPort}`;
  return {
    gatewayUrl,
    simulatorUrl,
    bookingsAddress: `127.0.0.1:${bookGrpc}`,
    operatorToken,
    async simulatorAdmin(method, path, body) {
      const res = await fetch(`${simulatorUrl}${path}`, {
        method,
        ...(body === undefined
          ? {}
          : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
      if (!res.ok) throw new Error(`simulator ${method} ${path}: HTTP ${res.status} ${await res.text()}`);
      return res.status === 204 ? undefined : res.json();
    },
    async issueToken(tenantId) {
      const res = await fetch(`${gatewayUrl}/api/v1/operator/tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${operatorToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ tenantId, label: 'browser test' }),
      });
      if (res.status !== 201) throw new Error(`token issue failed: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { token: string }).token;
    },
    logs: () =>
      procs
        .map((p) => `--- ${p.name}${p.exited ? ' (exited)' : ''}\n${p.stderrTail.join('').slice(-4000)}`)
        .join('\n'),
    stop,
  };
}
