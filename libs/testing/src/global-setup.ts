/**
 * Vitest global setup: chooses the Kafka broker and MongoDB-wire database for integration tests.
 *
 * Order (first that applies wins):
 *  1. `KAFKA_BROKERS` and `MONGO_URL` given in the environment;
 *  2. the repo's local infrastructure already running (`npm run infra:up`) — used, left running;
 *  3. a Docker engine that really answers `/_ping` → testcontainers (Kafka + FerretDB images);
 *  4. otherwise provision and start the local infrastructure (`tools/local-infra`) and stop it
 *     afterwards — unless `TEST_AUTO_INFRA=0`, in which case fail loudly with what to do.
 *
 * FerretDB's backend in 2–4 is `LOCAL_MONGO_BACKEND` (`sqlite` or `postgresql`; unset: the local
 * infrastructure's default). A running local infrastructure on another backend than the one asked
 * for is an error, never silently used.
 *
 * The endpoints are exported to test workers through `process.env` (workers are forked after this
 * runs) and vitest's `provide`, with the run's token (`TEST_RUN_TOKEN`): every `uniqueName` of the
 * run carries it, and the teardown deletes the topics that do — whatever the infrastructure, only
 * this run's — so a long-lived local broker does not collect thousands of test partitions (it once
 * held 18,766 and no longer started within its readiness timeout).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { resolve } from 'node:path';
import type { TestProject } from 'vitest/node';
import { RUN_TOKEN_ENV } from './infra';
import type { TestInfra } from './infra';
import { deleteRunTopics } from './resources';

const repoRoot = resolve(import.meta.dirname, '../../..');
const infraCli = resolve(repoRoot, 'tools/local-infra/cli.ts');
const tsx = resolve(repoRoot, 'node_modules/.bin/tsx');

/** FerretDB's backend and where the local infrastructure keeps its state, as tools/local-infra resolves them. */
interface LocalInfraSettings {
  readonly mongoBackend: string;
  readonly stateDir: string;
}

function localInfraSettings(): LocalInfraSettings {
  const result = spawnSync(tsx, [infraCli, 'settings'], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: process.env,
  });
  if (result.status !== 0) throw new Error(`local infrastructure settings: ${result.stderr.trim()}`);
  return JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as LocalInfraSettings;
}

function infra(command: string): { ok: boolean; stdout: string; stderr: string } {
  const result = spawnSync(tsx, [infraCli, command, '--json'], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: process.env,
  });
  return { ok: result.status === 0, stdout: result.stdout, stderr: result.stderr };
}

function dockerAnswers(): Promise<boolean> {
  const socketPath = process.env.DOCKER_HOST?.startsWith('unix://')
    ? process.env.DOCKER_HOST.slice('unix://'.length)
    : '/var/run/docker.sock';
  if (!existsSync(socketPath)) return Promise.resolve(false);
  return new Promise((resolvePromise) => {
    const req = request({ socketPath, path: '/_ping', method: 'GET', timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolvePromise(res.statusCode === 200 && body.trim() === 'OK'));
    });
    req.on('error', () => resolvePromise(false));
    req.on('timeout', () => {
      req.destroy();
      resolvePromise(false);
    });
    req.end();
  });
}

async function startWithTestcontainers(
  backend: string,
): Promise<{ infra: TestInfra; stop: () => Promise<void> }> {
  const { GenericContainer, Network, Wait } = await import('testcontainers');
  const { createServer } = await import('node:net');
  const freePort = () =>
    new Promise<number>((resolvePromise, reject) => {
      const srv = createServer();
      srv.listen(0, '127.0.0.1', () => {
        const address = srv.address();
        srv.close(() =>
          typeof address === 'object' && address
            ? resolvePromise(address.port)
            : reject(new Error('no port')),
        );
      });
    });
  const kafkaPort = await freePort();
  // Same versions as tools/local-infra. The advertised listener must be the host-mapped port.
  const kafka = await new GenericContainer('apache/kafka:4.1.1')
    .withExposedPorts({ container: 9092, host: kafkaPort })
    .withEnvironment({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_LISTENERS: 'PLAINTEXT://0.0.0.0:9092,CONTROLLER://0.0.0.0:9093',
      KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${kafkaPort}`,
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
    })
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .start();
  // The postgresql backend: PostgreSQL 15 beside FerretDB on a private network (same settings as
  // tools/local-infra/postgres.ts: UTF8, locale C, test durability off).
  const network = backend === 'postgresql' ? await new Network().start() : undefined;
  const postgres = network
    ? await new GenericContainer('postgres:15')
        .withNetwork(network)
        .withNetworkAliases('postgres')
        .withEnvironment({
          POSTGRES_HOST_AUTH_METHOD: 'trust',
          POSTGRES_DB: 'ferretdb',
          POSTGRES_INITDB_ARGS: '--encoding=UTF8 --locale=C',
        })
        .withCommand([
          'postgres',
          '-c',
          'fsync=off',
          '-c',
          'synchronous_commit=off',
          '-c',
          'full_page_writes=off',
        ])
        .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
        .start()
    : undefined;
  const ferretImage = new GenericContainer('ghcr.io/ferretdb/ferretdb:1.24.2').withExposedPorts(27017);
  const ferret = await (
    network
      ? ferretImage.withNetwork(network).withEnvironment({
          FERRETDB_HANDLER: 'postgresql',
          FERRETDB_POSTGRESQL_URL: 'postgres://postgres@postgres:5432/ferretdb',
          FERRETDB_TELEMETRY: 'disable',
        })
      : ferretImage.withEnvironment({ FERRETDB_HANDLER: 'sqlite', FERRETDB_TELEMETRY: 'disable' })
  )
    .withWaitStrategy(Wait.forListeningPorts())
    .start();
  return {
    infra: {
      kafkaBrokers: [`127.0.0.1:${kafkaPort}`],
      mongoUrl: `mongodb://${ferret.getHost()}:${ferret.getMappedPort(27017)}/?directConnection=true&retryWrites=false`,
      source: 'testcontainers',
      mongoBackend: backend,
    },
    stop: async () => {
      await Promise.allSettled([kafka.stop(), ferret.stop()]);
      await postgres?.stop();
      await network?.stop();
    },
  };
}

function fromEndpoints(json: string, source: TestInfra['source']): TestInfra {
  const parsed = JSON.parse(json) as { kafkaBrokers: string; mongoUrl: string; mongoBackend?: string };
  return {
    kafkaBrokers: parsed.kafkaBrokers.split(','),
    mongoUrl: parsed.mongoUrl,
    source,
    // Written before backends were selectable: SQLite.
    mongoBackend: parsed.mongoBackend ?? 'sqlite',
  };
}

function runningLocalInfra(settings: LocalInfraSettings, explicit: boolean): TestInfra | undefined {
  const { stateDir, mongoBackend: backend } = settings;
  const endpointsFile = resolve(stateDir, 'endpoints.json');
  if (!existsSync(endpointsFile)) return undefined;
  const statusCheck = spawnSync(tsx, [infraCli, 'status'], { cwd: repoRoot, encoding: 'utf8' });
  if (statusCheck.status !== 0) return undefined;
  const running = fromEndpoints(readFileSync(endpointsFile, 'utf8'), 'local-infra (already running)');
  if (explicit && running.mongoBackend !== backend) {
    throw new Error(
      `LOCAL_MONGO_BACKEND=${backend}, but the local infrastructure in ${stateDir} runs FerretDB on ${running.mongoBackend}. ` +
        `Run \`npm run infra:down && npm run infra:up -- --backend ${backend}\`, or unset LOCAL_MONGO_BACKEND to use it as it is.`,
    );
  }
  return running;
}

const HOW_TO =
  'Integration tests need a real Kafka broker and a MongoDB-wire database. Either:\n' +
  '  • run `npm run infra:up` (starts Kafka + FerretDB locally; needs Java 17 + Maven and Go;\n' +
  '    `-- --backend postgresql` or LOCAL_MONGO_BACKEND=postgresql for FerretDB on PostgreSQL), or\n' +
  '  • export KAFKA_BROKERS=host:port and MONGO_URL=mongodb://…, or\n' +
  '  • have a Docker engine running (testcontainers), or\n' +
  '  • unset TEST_AUTO_INFRA (then `npm test` starts the local infrastructure itself).';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let infraChoice: TestInfra;
  let teardown = async () => undefined as void;
  const log = (line: string) => process.stderr.write(`[test-infra] ${line}\n`);

  if (process.env.KAFKA_BROKERS && process.env.MONGO_URL) {
    infraChoice = {
      kafkaBrokers: process.env.KAFKA_BROKERS.split(','),
      mongoUrl: process.env.MONGO_URL,
      source: 'environment',
    };
  } else if (process.env.KAFKA_BROKERS || process.env.MONGO_URL) {
    throw new Error('Set both KAFKA_BROKERS and MONGO_URL, or neither.\n' + HOW_TO);
  } else {
    const explicit = Boolean(process.env.LOCAL_MONGO_BACKEND);
    const settings = localInfraSettings();
    const backend = settings.mongoBackend;
    const running = runningLocalInfra(settings, explicit);
    if (running) {
      infraChoice = running;
    } else if (await dockerAnswers()) {
      log(`Docker engine answers: starting Kafka and FerretDB (${backend}) with testcontainers…`);
      const started = await startWithTestcontainers(backend);
      infraChoice = started.infra;
      teardown = started.stop;
    } else if (process.env.TEST_AUTO_INFRA === '0') {
      throw new Error('No test infrastructure available (TEST_AUTO_INFRA=0).\n' + HOW_TO);
    } else {
      log('no endpoints given and no Docker engine: provisioning and starting the local infrastructure…');
      const started = infra('up');
      if (!started.ok)
        throw new Error(`could not start the local infrastructure:\n${started.stderr}\n${HOW_TO}`);
      infraChoice = fromEndpoints(
        started.stdout.trim().split('\n').at(-1) ?? '{}',
        'local-infra (started for this run)',
      );
      teardown = async () => {
        const stopped = infra('down');
        if (!stopped.ok) log(`infra:down failed: ${stopped.stderr}`);
      };
    }
  }

  log(
    `Kafka ${infraChoice.kafkaBrokers.join(',')} · MongoDB ${infraChoice.mongoUrl}${infraChoice.mongoBackend ? ` (FerretDB on ${infraChoice.mongoBackend})` : ''} · from ${infraChoice.source}`,
  );
  process.env.KAFKA_BROKERS = infraChoice.kafkaBrokers.join(',');
  process.env.MONGO_URL = infraChoice.mongoUrl;
  const token = (process.env[RUN_TOKEN_ENV] ??= randomBytes(4).toString('hex'));
  project.provide('testInfra', infraChoice);
  const brokers = infraChoice.kafkaBrokers;
  return async () => {
    try {
      const deleted = await deleteRunTopics(token, brokers);
      log(`deleted the run's ${deleted.length} topics`);
    } catch (err) {
      log(`the run's topics were not deleted: ${err instanceof Error ? err.message : String(err)}`);
    }
    await teardown();
  };
}
