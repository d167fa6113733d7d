import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';

/** Where the integration tests' real Kafka broker and MongoDB-wire database are. */
export interface TestInfra {
  readonly kafkaBrokers: string[];
  readonly mongoUrl: string;
  /** How the endpoints were chosen (environment, local infra, testcontainers). */
  readonly source: string;
  /**
   * FerretDB's backend (`sqlite` or `postgresql`) when the setup started or found it; undefined for
   * endpoints given in the environment (tests that care ask the server: `detectServerBackend`).
   */
  readonly mongoBackend?: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    testInfra: TestInfra;
  }
}

/**
 * The endpoints chosen by the global setup. Throws (never skips) when they are missing, so an
 * integration suite can't pass by silently not running.
 */
export function getTestInfra(): TestInfra {
  let provided: TestInfra | undefined;
  try {
    provided = inject('testInfra');
  } catch {
    provided = undefined;
  }
  if (provided) return provided;
  const brokers = process.env.KAFKA_BROKERS;
  const mongoUrl = process.env.MONGO_URL;
  if (!brokers || !mongoUrl) {
    throw new Error(
      'No test infrastructure: run tests through `npm test` / vitest with the repo config (its global setup starts or finds Kafka and MongoDB), or set KAFKA_BROKERS and MONGO_URL.',
    );
  }
  return { kafkaBrokers: brokers.split(','), mongoUrl, source: 'environment' };
}

/**
 * A unique, readable name for a topic, group id, database or tenant: `<prefix>-<12 hex chars>`,
 * inside a vitest run `<prefix>-<the run's 8-hex token><12 hex chars>` — the global setup's teardown
 * deletes the topics whose names carry its run's token (deleteRunTopics), so test runs do not pile
 * topics up on a long-lived broker.
 */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.env[RUN_TOKEN_ENV] ?? ''}${randomBytes(6).toString('hex')}`;
}

/** The environment variable of a test run's token (set by the global setup, inherited by the workers). */
export const RUN_TOKEN_ENV = 'TEST_RUN_TOKEN';
