import { createMetrics } from '@isams-sync/metrics';
import { describe, expect, it } from 'vitest';
import {
  GRPC_SHUTDOWN_MAX_MS,
  grpcShutdownDeadlineMs,
  protosDirOption,
  serviceApp,
  serviceConsumerOptions,
  shortSessionOverride,
  stopService,
} from '../src';
import type { ServiceShellParts } from '../src';

/** A logger that keeps the `part` and message of each warning (the rest is dropped). */
const warnings: Array<{ part?: unknown; msg: string }> = [];
const logger = {
  ...{ info: () => undefined, error: () => undefined, debug: () => undefined },
  warn: (obj: { part?: unknown }, msg: string) => void warnings.push({ part: obj.part, msg }),
} as never;

describe('shortSessionOverride', () => {
  it('sets nothing without a session timeout (the consumer keeps its defaults)', () => {
    expect(shortSessionOverride(undefined)).toEqual({});
  });

  it.each([
    [6_000, 1_000],
    [10_000, 1_666],
    [3_000, 500],
  ])('gives a %i ms session a heartbeat of a sixth of it (%i ms)', (session, heartbeat) => {
    expect(shortSessionOverride(session)).toEqual({
      sessionTimeoutMs: session,
      heartbeatIntervalMs: heartbeat,
    });
  });
});

describe('grpcShutdownDeadlineMs', () => {
  it.each([
    [10_000, 2_000],
    [4_000, 2_000],
    [3_000, 1_500],
    [20, 10],
  ])('gives the gRPC server of a %i ms shutdown %i ms', (timeout, grpc) => {
    expect(grpcShutdownDeadlineMs(timeout)).toBe(grpc);
  });

  it('never gives it more than 2 s, however long the shutdown', () => {
    expect(grpcShutdownDeadlineMs(10 * 60_000)).toBe(GRPC_SHUTDOWN_MAX_MS);
  });
});

describe('protosDirOption', () => {
  it('passes PROTOS_DIR when set, else nothing (libs/grpc finds the repository protos)', () => {
    expect(protosDirOption({ PROTOS_DIR: '/app/protos' })).toEqual({ protosDir: '/app/protos' });
    expect(protosDirOption({})).toEqual({});
  });
});

describe('serviceConsumerOptions', () => {
  const config = { KAFKA_CONSUMER_RETRY_INITIAL_MS: 200, KAFKA_CONSUMER_RETRY_MAX_MS: 30_000 } as never;
  const kafka = {} as never;
  const optionsOf = (fromBeginning: boolean, sessionTimeoutMs?: number) =>
    serviceConsumerOptions(config, {
      kafka,
      metrics: createMetrics({ service: 'shell-test' }),
      logger,
      group: { groupId: 'g', topic: 't', fromBeginning },
      sessionTimeoutMs,
    });

  it('names the group, its one topic and where it starts; the back-off from the environment', () => {
    const options = optionsOf(true);
    expect(options).toMatchObject({
      client: kafka,
      groupId: 'g',
      topics: ['t'],
      fromBeginning: true,
      backoff: { initialMs: 200, maxMs: 30_000 },
      logger,
    });
    expect(options.onDeadLettered).toBeTypeOf('function');
    expect(options).not.toHaveProperty('sessionTimeoutMs');
    expect(options).not.toHaveProperty('heartbeatIntervalMs');
  });

  it('takes the short session of a test', () => {
    expect(optionsOf(false, 6_000)).toMatchObject({
      sessionTimeoutMs: 6_000,
      heartbeatIntervalMs: 1_000,
      fromBeginning: false,
    });
  });
});

describe('stopService', () => {
  /** Fakes of every part the shell closes, recording what happens to them in order. */
  function fakeParts(events: string[]): Required<ServiceShellParts> {
    const record =
      (what: string) =>
      async (...args: unknown[]) => {
        events.push(args.length > 0 ? `${what}(${args.join(',')})` : what);
      };
    return {
      readiness: { stop: () => events.push('readiness off') } as never,
      sampler: { stop: () => new Promise<void>(() => events.push('sampler told')) } as never,
      grpc: { shutdown: record('grpc') } as never,
      producer: { disconnect: record('producer') } as never,
      ops: { close: record('ops server') } as never,
      mongo: { close: record('mongo') } as never,
      kafka: {} as never,
      abortStart: { abort: () => events.push('start aborted') } as never,
    };
  }

  it('readiness and the sampler first (the sampler not awaited), then servers, drains, producer, clients, ops, database', async () => {
    const events: string[] = [];
    await stopService(logger, { SHUTDOWN_TIMEOUT_MS: 10_000 }, fakeParts(events), {
      servers: [['http', () => events.push('http')]],
      drain: [['consumer', () => events.push('consumer')]],
      clients: [['roster client', () => events.push('roster client')]],
    });
    expect(events).toEqual([
      'start aborted',
      'readiness off',
      'sampler told',
      'grpc(2000)',
      'http',
      'consumer',
      'producer',
      'roster client',
      'ops server',
      'mongo',
    ]);
  });

  it('closes what a start that failed half-way opened, and the rest despite a part that fails', async () => {
    const events: string[] = [];
    warnings.length = 0;
    const { mongo, producer } = fakeParts(events);
    await stopService(
      logger,
      { SHUTDOWN_TIMEOUT_MS: 3_000 },
      { mongo, producer },
      {
        drain: [
          [
            'consumer',
            () => {
              throw new Error('broker gone');
            },
          ],
        ],
      },
    );
    expect(events).toEqual(['producer', 'mongo']);
    expect(warnings).toEqual([{ part: 'consumer', msg: 'a part failed to stop; stopping the rest' }]);
  });
});

describe('serviceApp', () => {
  interface Running extends ServiceShellParts {
    store?: { name: string };
    extra?: string;
  }

  it('reads the ports and the started parts from the running record; a part not made yet throws', async () => {
    const running: Running = {};
    const app = serviceApp(
      'svc',
      running,
      {
        start: async () => {
          running.grpc = { port: 50_051 } as never;
          running.ops = { port: 9_464 } as never;
          running.store = { name: 'store' };
        },
        stop: async () => undefined,
        get extra() {
          return running.extra;
        },
      },
      ['store'],
    );
    expect([app.grpcPort, app.opsPort]).toEqual([0, 0]);
    expect(() => app.store).toThrow('svc not started');
    expect(app.extra).toBeUndefined();
    await app.start();
    running.extra = 'later';
    expect([app.grpcPort, app.opsPort]).toEqual([50_051, 9_464]);
    expect(app.store).toEqual({ name: 'store' });
    expect(app.extra).toBe('later');
  });
});
