import { resolve } from 'node:path';

/** Versions of the local infrastructure. Keep in sync with kafka/pom.xml and ferretdb/go.mod. */
export const KAFKA_VERSION = '4.1.1';
export const FERRETDB_VERSION = 'v1.24.2';
/** The PostgreSQL major version the `postgresql` backend runs on (Debian 12's `postgresql` package). */
export const POSTGRES_MAJOR = 15;

/** FerretDB's storage backends we can run locally (docs/local-infra.md compares them). */
export const MONGO_BACKENDS = ['sqlite', 'postgresql'] as const;
export type MongoBackend = (typeof MONGO_BACKENDS)[number];
/**
 * The backend used when neither `--backend` nor `LOCAL_MONGO_BACKEND` says otherwise: PostgreSQL,
 * measured faster than SQLite in both runs on three of our five database workloads, slower on one
 * and split on one (docs/local-infra.md › Which backend, and why); SQLite stays runnable.
 */
export const DEFAULT_MONGO_BACKEND: MongoBackend = 'postgresql';

const repoRoot = resolve(import.meta.dirname, '../..');

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new Error(`${name} must be a TCP port (1-65535), got "${raw}"`);
  }
  return value;
}

/** Parses a backend name (from `--backend` or `LOCAL_MONGO_BACKEND`); `origin` names it in the error. */
export function parseMongoBackend(raw: string, origin: string): MongoBackend {
  const value = raw.trim().toLowerCase();
  if ((MONGO_BACKENDS as readonly string[]).includes(value)) return value as MongoBackend;
  throw new Error(`${origin} must be one of ${MONGO_BACKENDS.join(', ')}, got "${raw}"`);
}

/** Where things live and which loopback ports they use; every value can be overridden by env. */
export interface InfraSettings {
  readonly repoRoot: string;
  readonly cacheDir: string;
  readonly stateDir: string;
  readonly kafkaLibsDir: string;
  readonly ferretBinary: string;
  readonly kafkaPort: number;
  readonly kafkaControllerPort: number;
  readonly mongoPort: number;
  /** FerretDB's storage: SQLite files in the state dir, or a PostgreSQL server of our own. */
  readonly mongoBackend: MongoBackend;
  /** Loopback port of the PostgreSQL server (backend `postgresql` only). */
  readonly postgresPort: number;
  /** PostgreSQL's data directory (owned by the `postgres` user). */
  readonly postgresDataDir: string;
}

/**
 * Reads the settings from the environment. `backendOverride` (the CLI's `--backend`) wins over
 * `LOCAL_MONGO_BACKEND`, which wins over {@link DEFAULT_MONGO_BACKEND}.
 */
export function loadSettings(backendOverride?: string): InfraSettings {
  const cacheDir = resolve(process.env.LOCAL_INFRA_CACHE_DIR ?? resolve(repoRoot, '.cache/local-infra'));
  const stateDir = resolve(process.env.LOCAL_INFRA_STATE_DIR ?? resolve(cacheDir, 'state'));
  const envBackend = process.env.LOCAL_MONGO_BACKEND;
  const mongoBackend =
    backendOverride !== undefined
      ? parseMongoBackend(backendOverride, '--backend')
      : envBackend !== undefined && envBackend !== ''
        ? parseMongoBackend(envBackend, 'LOCAL_MONGO_BACKEND')
        : DEFAULT_MONGO_BACKEND;
  return {
    repoRoot,
    cacheDir,
    stateDir,
    kafkaLibsDir: resolve(cacheDir, `kafka-${KAFKA_VERSION}/libs`),
    ferretBinary: resolve(cacheDir, `bin/ferretdb-${FERRETDB_VERSION}`),
    kafkaPort: intFromEnv('LOCAL_KAFKA_PORT', 19092),
    kafkaControllerPort: intFromEnv('LOCAL_KAFKA_CONTROLLER_PORT', 19093),
    mongoPort: intFromEnv('LOCAL_MONGO_PORT', 27117),
    mongoBackend,
    postgresPort: intFromEnv('LOCAL_POSTGRES_PORT', 15432),
    postgresDataDir: resolve(stateDir, 'postgres-data'),
  };
}

/** The database FerretDB keeps its data in, inside our PostgreSQL server. */
export const POSTGRES_DATABASE = 'ferretdb';

/**
 * FerretDB's PostgreSQL connection pool (its default is 50). FerretDB 1.24 deadlocks when the pool is
 * exhausted during a DDL: creating or dropping a collection or database holds its metadata registry's
 * write lock while it waits for a connection, and the requests holding every connection wait for that
 * lock (seen on 2026-12-03: a goroutine dump showed `Registry.DatabaseDrop` in `pgxpool.Acquire` and
 * the requests in `Registry.getPool` → `RWMutex.RLock`; every answer stopped for good). A test run's
 * services open up to 100 driver connections each, so the pool is sized above what they can have in
 * flight; PostgreSQL's `max_connections` (postgres.ts) is above it.
 */
export const FERRETDB_POOL_MAX_CONNS = 400;

export function postgresUrl(s: InfraSettings): string {
  return `postgres://postgres@127.0.0.1:${s.postgresPort}/${POSTGRES_DATABASE}`;
}

/** The URL FerretDB connects with: {@link postgresUrl} and its pool size. */
export function ferretPostgresUrl(s: InfraSettings): string {
  return `${postgresUrl(s)}?pool_max_conns=${FERRETDB_POOL_MAX_CONNS}`;
}

export interface Endpoints {
  readonly kafkaBrokers: string;
  readonly mongoUrl: string;
  readonly mongoBackend: MongoBackend;
}

export function endpoints(s: InfraSettings): Endpoints {
  return {
    kafkaBrokers: `127.0.0.1:${s.kafkaPort}`,
    mongoUrl: `mongodb://127.0.0.1:${s.mongoPort}/?directConnection=true&retryWrites=false`,
    mongoBackend: s.mongoBackend,
  };
}
