import { describe, expect, it, vi } from 'vitest';
import { KafkaErrors } from '@isams-sync/kafka';
import { createReadiness } from '@isams-sync/metrics';
import { MongoErrors } from '@isams-sync/mongo';
import { isRetryableAtStart, startGate, untilReachable, untilStepDone } from '../src/service-start';

const logger = () => ({ warn: vi.fn(), info: vi.fn(), error: vi.fn(), debug: vi.fn() });

// kafkajs's errors as it makes them (name, `retriable`, a protocol error's `type` and `code`, the
// error a give-up wraps as `cause`); kafkajs itself is private to libs/kafka.
const kafkajsError = (name: string, message: string, fields: Record<string, unknown>) =>
  Object.assign(new Error(message), { name, ...fields });
const connectionRefused = () =>
  kafkajsError('KafkaJSConnectionError', 'Connection error: connect ECONNREFUSED', { retriable: true });
const protocolError = (type: string, code: number, retriable: boolean, message: string) =>
  kafkajsError('KafkaJSProtocolError', message, { type, code, retriable });

describe('isRetryableAtStart', () => {
  it('waits out an unreachable database or broker', () => {
    expect(isRetryableAtStart(MongoErrors.MONGO_UNAVAILABLE())).toBe(true);
    expect(
      isRetryableAtStart(
        KafkaErrors.KAFKA_UNAVAILABLE({ operation: 'ensureTopics', reason: 'ECONNREFUSED' }),
      ),
    ).toBe(true);
  });

  it('fails at once on what no waiting fixes: a refused credential or permission, a spec mismatch, a bug', () => {
    const sasl = Object.assign(new Error('SASL SCRAM-SHA-512 authentication failed'), {
      name: 'KafkaJSSASLAuthenticationError',
    });
    const acl = Object.assign(new Error('Not authorized'), {
      name: 'KafkaJSProtocolError',
      type: 'TOPIC_AUTHORIZATION_FAILED',
    });
    for (const cause of [sasl, acl])
      expect(
        isRetryableAtStart(
          KafkaErrors.KAFKA_UNAVAILABLE({ operation: 'ensureTopics', reason: cause.name }, { cause }),
        ),
      ).toBe(false);
    expect(isRetryableAtStart(MongoErrors.MONGO_AUTH_FAILED())).toBe(false);
    expect(
      isRetryableAtStart(KafkaErrors.KAFKA_TOPIC_MISMATCH({ mismatches: ['x: 3 partitions, not 6'] })),
    ).toBe(false);
    expect(isRetryableAtStart(new TypeError('x is undefined'))).toBe(false);
  });

  // A consumer's start fails as KAFKA_CONSUMER_FAILED whatever the cause: only a cause that is the
  // broker out of reach (or a topic not served yet) is waited out; the broker refusing the request
  // (an invalid topic name, a bad override) or a bug fails the start at once.
  const consumerFailed = (cause: unknown) =>
    KafkaErrors.KAFKA_CONSUMER_FAILED({ groupId: 'g', reason: String(cause) }, { cause });
  it('waits out a consumer that could not reach the broker or find its topic yet', () => {
    const refused = connectionRefused();
    expect(isRetryableAtStart(consumerFailed(refused))).toBe(true);
    expect(
      isRetryableAtStart(
        consumerFailed(
          kafkajsError('KafkaJSNumberOfRetriesExceeded', refused.message, {
            retriable: false,
            cause: refused,
          }),
        ),
      ),
    ).toBe(true);
    const notServed = protocolError(
      'UNKNOWN_TOPIC_OR_PARTITION',
      3,
      true,
      'This server does not host this topic-partition',
    );
    expect(isRetryableAtStart(consumerFailed(notServed))).toBe(true);
  });

  it('fails at once on a consumer start the broker refused or a bug broke', () => {
    const invalidTopic = protocolError(
      'INVALID_TOPIC_EXCEPTION',
      17,
      false,
      'The request attempted to perform an operation on an invalid topic',
    );
    expect(isRetryableAtStart(consumerFailed(invalidTopic))).toBe(false);
    expect(isRetryableAtStart(consumerFailed(new TypeError('handler is not a function')))).toBe(false);
    expect(isRetryableAtStart(KafkaErrors.KAFKA_CONSUMER_FAILED({ groupId: 'g', reason: 'x' }))).toBe(false);
  });
});

describe('untilReachable', () => {
  it('tries again after each unreachable attempt, logging it once at warn with its code', async () => {
    const log = logger();
    let calls = 0;
    const value = await untilReachable(
      'mongo',
      async () => {
        calls += 1;
        if (calls < 3) throw MongoErrors.MONGO_UNAVAILABLE();
        return 'connected';
      },
      { logger: log as never, backoff: { initialMs: 1, maxMs: 1 } },
    );
    expect(value).toBe('connected');
    expect(log.warn).toHaveBeenCalledTimes(2);
    expect(
      log.warn.mock.calls.map(([fields]) => [fields.dependency, fields.attempt, fields.errCode]),
    ).toEqual([
      ['mongo', 1, 'MONGO_UNAVAILABLE'],
      ['mongo', 2, 'MONGO_UNAVAILABLE'],
    ]);
  });

  it('throws a failure no waiting fixes at once', async () => {
    const log = logger();
    const step = vi.fn(async () => Promise.reject(MongoErrors.MONGO_AUTH_FAILED()));
    await expect(untilReachable('mongo', step, { logger: log as never })).rejects.toMatchObject({
      code: 'MONGO_AUTH_FAILED',
    });
    expect(step).toHaveBeenCalledTimes(1);
    expect(log.warn).not.toHaveBeenCalled();
  });

  it('gives up waiting as soon as the stop aborts it', async () => {
    const stop = new AbortController();
    const waiting = untilReachable('kafka', async () => Promise.reject(MongoErrors.MONGO_UNAVAILABLE()), {
      logger: logger() as never,
      signal: stop.signal,
    });
    stop.abort(new Error('stopping'));
    await expect(waiting).rejects.toThrow('stopping');
  });
});

describe('untilStepDone', () => {
  it('tries a later step again while the dependency its error is of is lost, with the same warn line and the step', async () => {
    const log = logger();
    const failures = [
      MongoErrors.MONGO_UNAVAILABLE(),
      KafkaErrors.KAFKA_CONSUMER_FAILED(
        { groupId: 'g', reason: 'ECONNREFUSED' },
        { cause: connectionRefused() },
      ),
    ];
    const step = vi.fn(async () => {
      const failure = failures.shift();
      if (failure !== undefined) throw failure;
      return 'migrated';
    });
    expect(
      await untilStepDone('legacy migration', step, {
        logger: log as never,
        backoff: { initialMs: 1, maxMs: 1 },
      }),
    ).toBe('migrated');
    expect(step).toHaveBeenCalledTimes(3);
    expect(
      log.warn.mock.calls.map(([fields, msg]) => [fields.dependency, fields.step, fields.errCode, msg]),
    ).toEqual([
      [
        'mongo',
        'legacy migration',
        'MONGO_UNAVAILABLE',
        'mongo not reachable yet at start-up: not ready, retrying',
      ],
      [
        'kafka',
        'legacy migration',
        'KAFKA_CONSUMER_FAILED',
        'kafka not reachable yet at start-up: not ready, retrying',
      ],
    ]);
  });

  it('throws a failure no waiting fixes at once, and gives up when the stop aborts it', async () => {
    const refused = vi.fn(async () => Promise.reject(new TypeError('x is undefined')));
    await expect(untilStepDone('consumer', refused, { logger: logger() as never })).rejects.toThrow(
      'x is undefined',
    );
    expect(refused).toHaveBeenCalledTimes(1);
    const stop = new AbortController();
    const waiting = untilStepDone('consumer', async () => Promise.reject(MongoErrors.MONGO_UNAVAILABLE()), {
      logger: logger() as never,
      signal: stop.signal,
    });
    stop.abort(new Error('stopping'));
    await expect(waiting).rejects.toThrow('stopping');
  });
});

describe('startGate', () => {
  it("turns ready as soon as the start opens it after an outage, without waiting for the probes' next round", async () => {
    let up = false;
    const inner = createReadiness({
      checks: [{ name: 'mongo', probe: async () => up }],
      // An hour: only a round the gate asks for can see the database back.
      intervalMs: 3_600_000,
      timeoutMs: 1_000,
      logger: logger() as never,
    });
    const gate = startGate(inner);
    await gate.start();
    expect(inner.status().checks).toEqual({ mongo: false });
    up = true;
    const ready = new Promise<void>((resolve) => gate.subscribe((r) => r && resolve()));
    gate.open();
    await ready;
    expect(gate.isReady()).toBe(true);
    gate.stop();
  });

  it('is ready only once the start opened it and while the probes answer', () => {
    let ready = false;
    const listeners: Array<(r: boolean) => void> = [];
    const inner = {
      isReady: () => ready,
      status: () => ({ ready, checks: {} }),
      subscribe: (l: (r: boolean) => void) => (listeners.push(l), () => undefined),
      start: async () => undefined,
      refresh: async () => undefined,
      stop: () => undefined,
    };
    const gate = startGate(inner);
    const seen: boolean[] = [];
    gate.subscribe((r) => seen.push(r));
    ready = true;
    for (const l of listeners) l(true);
    expect(gate.isReady()).toBe(false);
    gate.open();
    expect(gate.isReady()).toBe(true);
    ready = false;
    for (const l of listeners) l(false);
    expect(seen).toEqual([true, false]);
  });
});
