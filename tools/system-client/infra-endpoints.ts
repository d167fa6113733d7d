/**
 * Where the local Kafka and MongoDB-wire database are, for tools that run the whole system (bench,
 * load): `KAFKA_BROKERS` + `MONGO_URL`, else the running local infra's endpoints file, else
 * `npm run infra:up` (which starts it, on FerretDB's default or LOCAL_MONGO_BACKEND backend, and
 * prints the endpoints).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadSettings } from '../local-infra/settings';

export const repoRoot = resolve(import.meta.dirname, '../..');

export interface InfraEndpoints {
  readonly kafkaBrokers: string[];
  readonly mongoUrl: string;
  /** How the endpoints were found: `environment`, `local infra`, `started`. */
  readonly source: string;
}

export function resolveInfra(log: (line: string) => void = () => undefined): InfraEndpoints {
  if (process.env.KAFKA_BROKERS && process.env.MONGO_URL) {
    return {
      kafkaBrokers: process.env.KAFKA_BROKERS.split(','),
      mongoUrl: process.env.MONGO_URL,
      source: 'environment',
    };
  }
  // The same state dir the infra:* scripts use (LOCAL_INFRA_STATE_DIR / LOCAL_INFRA_CACHE_DIR honoured).
  const file = resolve(loadSettings().stateDir, 'endpoints.json');
  const status = spawnSync('npm', ['run', '-s', 'infra:status'], { cwd: repoRoot, encoding: 'utf8' });
  if (status.status === 0 && existsSync(file)) {
    const e = JSON.parse(readFileSync(file, 'utf8')) as { kafkaBrokers: string; mongoUrl: string };
    return { kafkaBrokers: e.kafkaBrokers.split(','), mongoUrl: e.mongoUrl, source: 'local infra' };
  }
  log('starting the local Kafka + FerretDB (npm run infra:up)…');
  const up = spawnSync('npm', ['run', '-s', 'infra:up', '--', '--json'], {
    cwd: repoRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (up.status !== 0) throw new Error('could not start the local infrastructure (see the lines above)');
  const e = JSON.parse(up.stdout.trim().split('\n').at(-1)!) as { kafkaBrokers: string; mongoUrl: string };
  return { kafkaBrokers: e.kafkaBrokers.split(','), mongoUrl: e.mongoUrl, source: 'started' };
}
