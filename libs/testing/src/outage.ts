import { spawn } from 'node:child_process';
import { createConnection, createServer } from 'node:net';
import type { Socket } from 'node:net';
import { resolve } from 'node:path';
import { expect } from 'vitest';
import { createLogger } from '@isams-sync/logger';
import type { Logger } from '@isams-sync/logger';
import { eventually } from './eventually';
import { grpcHealthStatus } from './grpc-probe';
import { getTestInfra } from './infra';
import { freePort } from './processes';
import { testServiceIdentityDir } from './service-identity';

const repoRoot = resolve(import.meta.dirname, '../../..');

/**
 * A TCP proxy on 127.0.0.1 that refuses every connection until it is opened, then forwards them —
 * and can lose the dependency again ({@link TcpGate.shut}), also at a chosen moment ({@link TcpGate.when}).
 */
export interface TcpGate {
  /** `127.0.0.1:<port>`: what a client under test is given instead of the target. */
  readonly address: string;
  readonly port: number;
  /** From now on connections are forwarded to the target. */
  open(): void;
  /** The dependency is lost again: every forwarded connection is cut and new ones are refused until {@link open}. */
  shut(): void;
  /**
   * Runs `action` once, when a client first sends bytes containing `pattern` (before they are
   * forwarded: `gate.when(…, () => gate.shut())` loses the dependency just as that request is sent).
   */
  when(pattern: string | Uint8Array, action: () => void): void;
  /** Stops listening and ends every forwarded connection. */
  close(): Promise<void>;
}

/**
 * A dependency that is unreachable and later comes back (a broker or database outage as a pod
 * starts): while closed, every connection is accepted and reset at once; once {@link TcpGate.open}ed,
 * each connection is piped to `target` (`host:port`).
 */
export async function startTcpGate(target: string): Promise<TcpGate> {
  const [host, port] = splitHostPort(target);
  let open = false;
  const sockets = new Set<Socket>();
  const triggers: Array<{ pattern: Buffer; action: () => void }> = [];
  const longest = () => Math.max(1, ...triggers.map((t) => t.pattern.length));
  const shut = (): void => {
    open = false;
    for (const s of sockets) s.destroy();
  };
  const fire = (seen: Buffer): void => {
    for (const t of [...triggers])
      if (seen.includes(t.pattern)) {
        triggers.splice(triggers.indexOf(t), 1);
        t.action();
      }
  };
  const server = createServer((client) => {
    if (!open) return void client.resetAndDestroy();
    const upstream = createConnection({ host, port });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    // Each chunk is matched with the end of the one before (a pattern split between two chunks).
    let tail = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      const seen = Buffer.concat([tail, chunk]);
      tail = seen.subarray(Math.max(0, seen.length - longest() + 1));
      fire(seen);
      if (open && !upstream.destroyed) upstream.write(chunk);
    });
    upstream.pipe(client);
  });
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('tcp gate: no port');
  return {
    address: `127.0.0.1:${address.port}`,
    port: address.port,
    open: () => void (open = true),
    shut,
    when: (pattern, action) => void triggers.push({ pattern: Buffer.from(pattern), action }),
    close: () =>
      new Promise<void>((resolveClose) => {
        shut();
        server.close(() => resolveClose());
      }),
  };
}

function splitHostPort(target: string): [string, number] {
  const i = target.lastIndexOf(':');
  return [target.slice(0, i), Number(target.slice(i + 1))];
}

/** `mongoUrl` with its host:port replaced by `address` (a {@link TcpGate} in front of the database). */
export function mongoUrlThrough(mongoUrl: string, address: string): string {
  return mongoUrl.replace(/^(mongodb:\/\/(?:[^@/]*@)?)[^/]+/, `$1${address}`);
}

/**
 * The bytes a MongoDB command on `collection` starts with (its first BSON element, e.g.
 * `{ find: 'changesets' }`): a {@link TcpGate.when} pattern for "as this command is sent".
 */
export function mongoCommandBytes(command: string, collection: string): Buffer {
  const length = Buffer.alloc(4);
  length.writeInt32LE(Buffer.byteLength(collection) + 1);
  return Buffer.concat([
    Buffer.from([0x02]),
    Buffer.from(`${command}\0`),
    length,
    Buffer.from(`${collection}\0`),
  ]);
}

/** The status of a GET of `url` (`/health`, `/ready` of an ops server), or `unreachable`. */
export async function httpStatus(url: string): Promise<number | 'unreachable'> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(3_000) })).status;
  } catch {
    return 'unreachable';
  }
}

/** The log lines (JSON, one per entry) of start-up attempts that found a dependency unreachable. */
export function failedStartAttempts(lines: readonly string[]): string[] {
  return lines.filter((l) => l.includes('not reachable yet at start-up'));
}

/** A service's real `main.ts` run as a process for an outage test: its output and exit kept. */
export interface WatchedService {
  /** Its output (stdout and stderr), one entry per line. */
  readonly lines: string[];
  /** Its exit code (or signal) once it exited. */
  readonly exits: Array<number | string>;
  readonly grpcPort: number;
  /** `127.0.0.1:<GRPC_PORT>`. */
  readonly grpcAddress: string;
  alive(): boolean;
  /** Its exits and whole log, for a failed wait's message. */
  detail(): string;
  /** The status of a GET of `path` on its ops server. */
  ops(path: string): Promise<number | 'unreachable'>;
  kill(signal: NodeJS.Signals): void;
}

/**
 * Starts `node --import tsx <entry>` with `env` (beside the test identity, its own gRPC and ops
 * ports, info logs and a 500 ms readiness interval) and does not wait for anything: an outage test
 * watches it start ({@link expectLiveNotReady}).
 */
export async function spawnWatchedService(
  entry: string,
  env: Record<string, string>,
): Promise<WatchedService> {
  const [grpcPort, opsPort] = [await freePort(), await freePort()];
  const lines: string[] = [];
  const exits: Array<number | string> = [];
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      GRPC_IDENTITY_DIR: testServiceIdentityDir(),
      KAFKA_TOPIC_REPLICATION_FACTOR: '1',
      READINESS_INTERVAL_MS: '500',
      ...env,
      GRPC_PORT: String(grpcPort),
      OPS_PORT: String(opsPort),
    },
  });
  child.once('exit', (code, signal) => exits.push(code ?? signal ?? 'unknown'));
  for (const stream of [child.stdout, child.stderr])
    stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  const alive = () => exits.length === 0;
  return {
    lines,
    exits,
    grpcPort,
    grpcAddress: `127.0.0.1:${grpcPort}`,
    alive,
    detail: () => `exits ${JSON.stringify(exits)}; log:\n${lines.join('\n')}`,
    ops: (path) => httpStatus(`http://127.0.0.1:${opsPort}${path}`),
    kill: (signal) => void (alive() && child.kill(signal)),
  };
}

/**
 * docs/deploy.md › A service not ready, while its dependencies refuse: the process does not exit,
 * `/health` answers 200, two failed start-up attempts are logged, `/ready` answers 503, gRPC health
 * `liveness` SERVING and `''` NOT_SERVING, and no connection string with a password is logged.
 */
export async function expectLiveNotReady(service: WatchedService): Promise<void> {
  const { detail } = service;
  await eventually(
    async () => {
      if (!service.alive()) throw new Error(`the service exited at start-up: ${detail()}`);
      return (await service.ops('/health')) === 200;
    },
    'ops /health 200',
    { timeoutMs: 60_000, detail },
  );
  await eventually(
    () => failedStartAttempts(service.lines).length >= 2,
    'two failed start-up attempts logged',
    {
      timeoutMs: 120_000,
      detail,
    },
  );
  expect(service.alive(), detail()).toBe(true);
  expect(await service.ops('/health')).toBe(200);
  expect(await service.ops('/ready')).toBe(503);
  expect(await grpcHealthStatus(service.grpcAddress, 'liveness')).toBe('SERVING');
  expect(await grpcHealthStatus(service.grpcAddress, '')).toBe('NOT_SERVING');
  expect(service.lines.join('\n')).not.toMatch(/mongodb:\/\/[^\s"]*:[^\s"@]*@/);
}

/** Once its dependencies answer again: ready by itself (`/ready` 200, gRPC health `''` SERVING), still running. */
export async function expectReadyAfterOutage(service: WatchedService): Promise<void> {
  const { detail } = service;
  await eventually(async () => (await service.ops('/ready')) === 200, 'ready', {
    timeoutMs: 180_000,
    detail,
  });
  expect(await grpcHealthStatus(service.grpcAddress, '')).toBe('SERVING');
  expect(service.alive(), detail()).toBe(true);
}

/** SIGTERM: the service stops and exits 0. */
export async function expectExitsOnSigterm(service: WatchedService): Promise<void> {
  service.kill('SIGTERM');
  await eventually(() => (service.alive() ? undefined : true), 'the process exits after SIGTERM', {
    timeoutMs: 30_000,
    detail: service.detail,
  });
  expect(service.exits).toEqual([0]);
}

/** A logger for an app under test whose lines are kept (JSON, one per entry). */
export function capturedLogger(service: string): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return {
    logger: createLogger({ service, level: 'info', destination: { write: (l) => lines.push(l) } }),
    lines,
  };
}

/** An app's start run in the background by an outage test ({@link watchStart}). */
export interface WatchedStart {
  /** Waits until a failed attempt of the start-up `step` is logged; throws once the start failed. */
  failedAt(step: string): Promise<void>;
  /** Waits until the start finished; throws once it failed. */
  finished(): Promise<void>;
  /** The start has finished. */
  readonly started: boolean;
}

/** Runs `start` without awaiting it, watching its log `lines` for failed attempts (`failedStartAttempts`). */
export function watchStart(start: () => Promise<void>, lines: readonly string[]): WatchedStart {
  let failure: unknown;
  let started = false;
  start().then(
    () => (started = true),
    (err: unknown) => (failure = err),
  );
  const detail = () => lines.join('');
  const unlessFailed =
    <T>(check: () => T) =>
    () => {
      if (failure !== undefined) throw new Error(`the start failed: ${String(failure)}\n${detail()}`);
      return check();
    };
  return {
    failedAt: async (step) => {
      await eventually(
        unlessFailed(() => failedStartAttempts(lines).some((l) => l.includes(`"step":"${step}"`))),
        `a failed attempt of the ${step} logged`,
        { timeoutMs: 120_000, detail },
      );
    },
    finished: async () => {
      await eventually(
        unlessFailed(() => started),
        'the start finished',
        { timeoutMs: 180_000, detail },
      );
    },
    get started() {
      return started;
    },
  };
}

/** Gates in front of the test infrastructure's MongoDB and (first) Kafka broker ({@link dependencyGates}). */
export interface DependencyGates {
  readonly mongo: TcpGate;
  readonly kafka: TcpGate;
  /** `MONGO_URL` through the MongoDB gate. */
  readonly mongoUrl: string;
  close(): Promise<void>;
}

/** Closed gates in front of the test infrastructure's MongoDB and Kafka: both unreachable until opened. */
export async function dependencyGates(): Promise<DependencyGates> {
  const infra = getTestInfra();
  const mongo = await startTcpGate(new URL(infra.mongoUrl).host);
  const kafka = await startTcpGate(infra.kafkaBrokers[0]!);
  return {
    mongo,
    kafka,
    mongoUrl: mongoUrlThrough(infra.mongoUrl, mongo.address),
    close: async () => {
      await mongo.close();
      await kafka.close();
    },
  };
}

/**
 * Open {@link dependencyGates}; MongoDB is lost as the MongoDB command `mongoLostAt` is sent, Kafka
 * as `kafkaLostAt` is ({@link mongoCommandBytes}).
 */
export async function gatesLosingAt(
  mongoLostAt: Uint8Array,
  kafkaLostAt: Uint8Array,
): Promise<DependencyGates> {
  const gates = await dependencyGates();
  const { mongo, kafka } = gates;
  mongo.open();
  kafka.open();
  mongo.when(mongoLostAt, () => mongo.shut());
  mongo.when(kafkaLostAt, () => kafka.shut());
  return gates;
}

/**
 * A start that loses MongoDB during its `mongoStep` and Kafka before its consumer's first join (the
 * test sets the gates' {@link TcpGate.when} triggers): each outage waited out — a failed attempt of
 * the step logged (`mongo` `MONGO_UNAVAILABLE`, then `kafka` `KAFKA_CONSUMER_FAILED` at `consumer`),
 * the start not finished — until its gate opens; then the start finishes and `/ready` (of
 * `opsPort()`) answers 200 at once.
 */
export async function expectStepOutagesWaitedOut(
  start: WatchedStart,
  lines: readonly string[],
  gates: DependencyGates,
  mongoStep: string,
  opsPort: () => number,
): Promise<void> {
  await start.failedAt(mongoStep);
  expect(start.started).toBe(false);
  gates.mongo.open();
  await start.failedAt('consumer');
  expect(start.started).toBe(false);
  gates.kafka.open();
  await start.finished();
  expect(await httpStatus(`http://127.0.0.1:${opsPort()}/ready`)).toBe(200);
  expect(failedStartAttempts(lines).map((l) => JSON.parse(l) as unknown)).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ dependency: 'mongo', step: mongoStep, errCode: 'MONGO_UNAVAILABLE' }),
      expect.objectContaining({ dependency: 'kafka', step: 'consumer', errCode: 'KAFKA_CONSUMER_FAILED' }),
    ]),
  );
}
