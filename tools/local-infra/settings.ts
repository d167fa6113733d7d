import { resolve } from 'node:path';

/** Versions of the local infrastructure. Keep in sync with kafka/pom.xml and ferretdb/go.mod. */
export const KAFKA_VERSION = '4.1.1';
export const FERRETDB_VERSION = 'v1.24.2';

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
}

export function loadSettings(): InfraSettings {
  const cacheDir = resolve(process.env.LOCAL_INFRA_CACHE_DIR ?? resolve(repoRoot, '.cache/local-infra'));
  const stateDir = resolve(process.env.LOCAL_INFRA_STATE_DIR ?? resolve(cacheDir, 'state'));
  return {
    repoRoot,
    cacheDir,
    stateDir,
    kafkaLibsDir: resolve(cacheDir, `kafka-${KAFKA_VERSION}/libs`),
    ferretBinary: resolve(cacheDir, `bin/ferretdb-${FERRETDB_VERSION}`),
    kafkaPort: intFromEnv('LOCAL_KAFKA_PORT', 19092),
    kafkaControllerPort: intFromEnv('LOCAL_KAFKA_CONTROLLER_PORT', 19093),
    mongoPort: intFromEnv('LOCAL_MONGO_PORT', 27117),
  };
}

export function endpoints(s: InfraSettings): { kafkaBrokers: string; mongoUrl: string } {
  return {
    kafkaBrokers: `127.0.0.1:${s.kafkaPort}`,
    mongoUrl: `mongodb://127.0.0.1:${s.mongoPort}/?directConnection=true&retryWrites=false`,
  };
}
