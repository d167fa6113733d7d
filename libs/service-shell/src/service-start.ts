import { setTimeout as sleep } from 'node:timers/promises';
import { isAppError, isTransientKind } from '@isams-sync/errors';
import { backoffDelay, isPermanentKafkaError } from '@isams-sync/kafka';
import type { BackoffOptions } from '@isams-sync/kafka';
import type { Logger } from '@isams-sync/logger';
import type { Readiness } from '@isams-sync/metrics';

/** The back-off between start-up attempts: 1 s, doubling, at most 30 s, ±20 % jitter. */
export const START_RETRY_BACKOFF = { initialMs: 1_000, factor: 2, maxMs: 30_000, jitter: 0.2 } as const;

/** kafkajs' names and protocol types of a refused credential or permission (no retry fixes them). */
const REFUSED = /SASLAuthentication|SASL_AUTHENTICATION_FAILED|AUTHORIZATION_FAILED/;

/** `err` and what it wraps (`cause`, kafkajs' `originalError`), outermost first. */
function causes(err: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e = err; e !== undefined && e !== null && chain.length < 10;) {
    chain.push(e);
    const o = e as { cause?: unknown; originalError?: unknown };
    e = o.cause ?? o.originalError;
  }
  return chain;
}

/**
 * Whether a consumer's failed start (`KAFKA_CONSUMER_FAILED`, transient whatever its cause) is one
 * waiting can fix: its cause is a Kafka client failure libs/kafka does not judge permanent (the
 * broker out of reach, a topic not served yet, a coordinator moving — not a request the broker
 * refused, such as an invalid topic name). No cause, or one that is not Kafka's (a bug in the
 * handler's set-up), is not.
 */
function consumerStartIsTransient(err: { cause?: unknown }): boolean {
  return err.cause !== undefined && !isPermanentKafkaError(err.cause);
}

/**
 * True when a failed start-up step may succeed later by itself: a dependency unreachable, slow or
 * busy (an `AppError` of a transient kind, e.g. `MONGO_UNAVAILABLE`, `KAFKA_UNAVAILABLE`; for a
 * consumer's `KAFKA_CONSUMER_FAILED`, only when its cause is — {@link consumerStartIsTransient}) —
 * but not a credential or permission the broker refused, which kafkajs reports as a connection
 * failure. Anything else (bad configuration, `MONGO_AUTH_FAILED`, a topic or index that differs from
 * its spec, a migration that refuses, a request the broker refused, a bug) is not: the start fails at once.
 */
export function isRetryableAtStart(err: unknown): boolean {
  if (!isAppError(err) || !isTransientKind(err.kind)) return false;
  if (err.code === 'KAFKA_CONSUMER_FAILED' && !consumerStartIsTransient(err)) return false;
  return !causes(err).some((e) => {
    const { name, type } = e as { name?: unknown; type?: unknown };
    return REFUSED.test(`${String(name)} ${String(type)}`);
  });
}

/** Options of {@link untilReachable}. */
export interface UntilReachableOptions {
  logger: Logger;
  /** Aborted by the service's stop: the waiting ends at once (rejecting with the abort reason). */
  signal?: AbortSignal | undefined;
  /** The back-off (default {@link START_RETRY_BACKOFF}; tests shorten it). */
  backoff?: BackoffOptions;
  /** Started at the first failed attempt: its probes (and `isams_sync_dependency_up`) show the outage while the start waits. */
  readiness?: Pick<Readiness, 'start'> | undefined;
}

/** The dependency an error is of: `mongo` for `MONGO_*`, `kafka` for `KAFKA_*`, else `fallback`. */
function dependencyOf(err: unknown, fallback: string): string {
  if (!isAppError(err)) return fallback;
  if (err.code.startsWith('MONGO_')) return 'mongo';
  if (err.code.startsWith('KAFKA_')) return 'kafka';
  return fallback;
}

/**
 * Runs one start-up step (`what`: `mongo`, `kafka`) until it succeeds, with capped exponential
 * back-off and jitter ({@link START_RETRY_BACKOFF}) while it fails in a way {@link isRetryableAtStart}
 * accepts, logging each failed attempt once at warn with its error code and message (never the
 * connection string). Any other failure is thrown at once.
 */
export function untilReachable<T>(
  what: string,
  step: () => Promise<T>,
  opts: UntilReachableOptions,
): Promise<T> {
  return retryAtStart(() => what, undefined, step, opts);
}

/**
 * A step of the start after the dependencies first answered (a migration, a key binding, a
 * consumer's first join), run as {@link untilReachable} runs the first connection: while MongoDB or
 * Kafka, lost meanwhile, is unreachable, it is tried again with the same back-off, each failed attempt
 * logged with the same warn line (`<mongo|kafka> not reachable yet at start-up: not ready, retrying`,
 * the dependency its error is of) and the `step`. Any other failure is thrown at once. The step must
 * be idempotent: it runs again from its beginning after failing half-way.
 */
export function untilStepDone<T>(
  step: string,
  run: () => Promise<T>,
  opts: UntilReachableOptions,
): Promise<T> {
  return retryAtStart((err) => dependencyOf(err, 'dependency'), step, run, opts);
}

async function retryAtStart<T>(
  dependency: (err: unknown) => string,
  step: string | undefined,
  run: () => Promise<T>,
  opts: UntilReachableOptions,
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    opts.signal?.throwIfAborted();
    try {
      return await run();
    } catch (err) {
      opts.signal?.throwIfAborted();
      if (!isRetryableAtStart(err)) throw err;
      const retryInMs = backoffDelay(attempt, opts.backoff ?? START_RETRY_BACKOFF);
      const what = dependency(err);
      opts.logger.warn(
        {
          dependency: what,
          ...(step === undefined ? {} : { step }),
          attempt,
          retryInMs,
          errCode: isAppError(err) ? err.code : undefined,
          reason: err instanceof Error ? err.message : String(err),
        },
        `${what} not reachable yet at start-up: not ready, retrying`,
      );
      void opts.readiness?.start();
      await sleep(retryInMs, undefined, opts.signal ? { signal: opts.signal } : {});
    }
  }
}

/** A {@link Readiness} that also waits for the service's start to finish ({@link StartGate.open}). */
export interface StartGate extends Readiness {
  /**
   * The start has finished (servers, consumers, schedulers up): ready from now on while the
   * dependencies are — a round of probes runs at once, so a start that waited out an outage is ready
   * without waiting for the next round.
   */
  open(): void;
}

/**
 * Readiness held back until the start has finished: the dependency probes (and their gauge and
 * log lines) run from the first moment, but `/ready` and the gRPC health keys say ready only once
 * {@link StartGate.open} was called and the probes answer.
 */
export function startGate(inner: Readiness): StartGate {
  let opened = false;
  const listeners = new Set<(ready: boolean) => void>();
  const isReady = (): boolean => opened && inner.isReady();
  let last = false;
  const publish = (): void => {
    const now = isReady();
    if (now === last) return;
    last = now;
    for (const l of [...listeners]) l(now);
  };
  inner.subscribe(publish);
  return {
    isReady,
    status: () => ({ ...inner.status(), ready: isReady() }),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    start: () => inner.start(),
    refresh: () => inner.refresh(),
    stop() {
      inner.stop();
      publish();
    },
    open() {
      opened = true;
      publish();
      // A start that waited out an outage may finish before the probes' next round sees the
      // dependency back (up to READINESS_INTERVAL_MS): a round now, so ready follows at once.
      void inner.refresh();
    },
  };
}
