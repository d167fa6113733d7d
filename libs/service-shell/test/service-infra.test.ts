import { beforeEach, describe, expect, it, vi } from 'vitest';
import { startServiceInfra } from '../src/service-infra';
import { stopService } from '../src/service-stop';
import type { ServiceShellParts } from '../src/service-stop';

// In-memory stand-ins of the shell's inputs: the database connects, the broker hands over its
// producer and then fails to connect it (what a start against a broker that is away does).
const events: string[] = [];
const fakeMongo = {
  db: {},
  ping: async () => undefined,
  close: async () => void events.push('mongo closed'),
};
const fakeProducer = { disconnect: async () => void events.push('producer disconnected') };

vi.mock('@isams-sync/mongo', () => ({
  connectMongo: async (options: { appName: string; dbName: string }) => {
    events.push(`mongo connected (${options.appName}, ${options.dbName})`);
    return fakeMongo;
  },
  mongoOptionsFromConfig: (config: { MONGO_URL: string; MONGO_DB: string }, opts: { appName: string }) => ({
    url: config.MONGO_URL,
    dbName: config.MONGO_DB,
    appName: opts.appName,
  }),
  ensureIndexes: async () => void events.push('indexes ensured'),
  mongoReadinessCheck: () => ({ name: 'mongodb', check: async () => undefined }),
}));

vi.mock('@isams-sync/kafka', () => ({
  serviceBroker: async (_config: unknown, opts: { onProducer(p: unknown): void }) => {
    opts.onProducer(fakeProducer);
    throw new Error('broker away');
  },
  kafkaReadinessCheck: () => ({ name: 'kafka', check: async () => undefined }),
  createKafkaClient: () => ({}),
  kafkaClientOptionsFromConfig: () => ({}),
  backoffDelay: () => 0,
}));

const logger = {
  warn: () => undefined,
  info: () => undefined,
  error: () => undefined,
  debug: () => undefined,
};
const config = {
  MONGO_URL: 'mongodb://db',
  MONGO_DB: 'svc',
  READINESS_INTERVAL_MS: 5_000,
  READINESS_TIMEOUT_MS: 3_000,
  SHUTDOWN_TIMEOUT_MS: 10_000,
} as never;

describe('startServiceInfra', () => {
  beforeEach(() => {
    events.length = 0;
  });

  it('records each part as it opens, so the stop of a start that failed half-way closes them', async () => {
    const parts: ServiceShellParts = { readiness: { stop: () => undefined } as never };
    await expect(
      startServiceInfra(config, {
        service: 'svc',
        logger: logger as never,
        parts,
        indexes: [],
        prepare: async () => void events.push('stores ready'),
        topics: [],
        onTopicMismatch: 'warn',
      }),
    ).rejects.toThrow('broker away');
    expect(parts.mongo).toBe(fakeMongo);
    expect(parts.producer).toBe(fakeProducer);

    await stopService(logger, config, parts, {});
    expect(events).toEqual([
      'mongo connected (svc, svc)',
      'indexes ensured',
      'stores ready',
      'producer disconnected',
      'mongo closed',
    ]);
  });
});
