import type { LoggerLike } from '@isams-sync/logger';
import type { Metrics } from './create-metrics';
import { roundLoop } from './round-loop';

/** One dependency readiness depends on (Kafka, MongoDB …). */
export interface DependencyCheck {
  /** Short, fixed name used in logs, the `/ready` body and the `dependency` label, e.g. `kafka`. */
  readonly name: string;
  /**
   * One real request to the dependency. Resolving (to anything but `false`) means it answered;
   * `false`, a rejection or no answer within the timeout means it did not. A probe that does not
   * answer in time is not cancelled; a new one starts only after it settles (never two at once).
   */
  probe(): Promise<unknown>;
}

/** Options of {@link createReadiness}. */
export interface ReadinessOptions {
  readonly checks: readonly DependencyCheck[];
  /** Pause between the end of one round of probes and the start of the next (`READINESS_INTERVAL_MS`). */
  readonly intervalMs: number;
  /** How long a probe may take before its dependency counts as unreachable (`READINESS_TIMEOUT_MS`). */
  readonly timeoutMs: number;
  /** Where changes (a dependency lost, a dependency back) are logged. */
  readonly logger: LoggerLike;
  /** When given, `isams_sync_dependency_up{dependency}` (1 reachable, 0 not) is kept in this registry. */
  readonly metrics?: Metrics;
}

/** The last known state of every check. */
export interface ReadinessStatus {
  readonly ready: boolean;
  readonly checks: Readonly<Record<string, boolean>>;
}

/**
 * The readiness of one process, from cached probe results: {@link Readiness.isReady} answers at once
 * (a `/ready` request or a gRPC health check never waits on a dependency), while a background loop
 * probes each dependency every `intervalMs` with a `timeoutMs` limit. Not ready before the first
 * round and after {@link Readiness.stop}.
 */
export interface Readiness {
  isReady(): boolean;
  status(): ReadinessStatus;
  /** Called with the new value whenever readiness changes; returns the unsubscribe function. */
  subscribe(listener: (ready: boolean) => void): () => void;
  /** Runs the first round of probes (awaited), then keeps probing in the background. */
  start(): Promise<void>;
  /**
   * Runs a round of probes now (awaited), beside the background ones: a change the caller knows of
   * (a start that just finished after waiting out an outage) is seen without waiting for the next
   * round. Does nothing before {@link Readiness.start} or after {@link Readiness.stop}.
   */
  refresh(): Promise<void>;
  /** Stops probing; readiness is false from now on (shutdown). */
  stop(): void;
}

/** The gauge kept when {@link ReadinessOptions.metrics} is given (label `dependency`). */
export const DEPENDENCY_UP_METRIC = 'isams_sync_dependency_up';

type Outcome = { ok: true } | { ok: false; err?: unknown; timedOut?: boolean };

/**
 * Creates the readiness monitor every service uses for `/ready` and its gRPC health status.
 *
 * @example
 * ```ts
 * const readiness = createReadiness({
 *   logger, metrics, intervalMs: config.READINESS_INTERVAL_MS, timeoutMs: config.READINESS_TIMEOUT_MS,
 *   checks: [mongoReadinessCheck(mongo), kafkaReadinessCheck(kafka)],
 * });
 * await readiness.start();
 * ops = await startOpsServer({ port, metrics, logger, readiness: () => readiness.isReady() });
 * ```
 */
export function createReadiness(options: ReadinessOptions): Readiness {
  const { checks, logger, intervalMs, timeoutMs } = options;
  const names = new Set<string>();
  for (const c of checks) {
    if (names.has(c.name)) throw new Error(`readiness: duplicate check name "${c.name}"`);
    names.add(c.name);
  }
  const gauge = options.metrics?.gauge<'dependency'>({
    name: DEPENDENCY_UP_METRIC,
    help: 'Whether the last readiness probe of a dependency answered in time (1) or not (0)',
    labelNames: ['dependency'],
  });
  const state = new Map<string, boolean | undefined>(checks.map((c) => [c.name, undefined]));
  const inFlight = new Map<string, Promise<Outcome>>();
  const listeners = new Set<(ready: boolean) => void>();
  let started = false;
  const loop = roundLoop(() => round(), intervalMs);
  let ready = false;

  const compute = () => !loop.stopped && started && [...state.values()].every((ok) => ok === true);

  const publish = () => {
    const next = compute();
    if (next === ready) return;
    ready = next;
    for (const l of [...listeners]) {
      try {
        l(ready);
      } catch (err) {
        logger.error({ err }, 'readiness listener failed');
      }
    }
  };

  const runProbe = (check: DependencyCheck): Promise<Outcome> => {
    let pending = inFlight.get(check.name);
    if (!pending) {
      pending = Promise.resolve()
        .then(() => check.probe())
        .then(
          (r): Outcome => (r === false ? { ok: false } : { ok: true }),
          (err: unknown): Outcome => ({ ok: false, err }),
        )
        .finally(() => inFlight.delete(check.name));
      inFlight.set(check.name, pending);
    }
    let limit: NodeJS.Timeout | undefined;
    const timeout = new Promise<Outcome>((resolve) => {
      limit = setTimeout(() => resolve({ ok: false, timedOut: true }), timeoutMs);
      limit.unref();
    });
    return Promise.race([pending, timeout]).finally(() => clearTimeout(limit));
  };

  const record = (check: DependencyCheck, outcome: Outcome) => {
    if (loop.stopped) return;
    const before = state.get(check.name);
    state.set(check.name, outcome.ok);
    gauge?.set({ dependency: check.name }, outcome.ok ? 1 : 0);
    if (outcome.ok && before === false) logger.info({ dependency: check.name }, 'dependency reachable again');
    if (!outcome.ok && before !== false) {
      logger.warn(
        {
          dependency: check.name,
          ...(outcome.timedOut ? { timeoutMs } : {}),
          ...(outcome.err === undefined ? {} : { err: outcome.err }),
        },
        outcome.timedOut
          ? 'dependency did not answer in time: not ready'
          : 'dependency unreachable: not ready',
      );
    }
  };

  const round = async () => {
    await Promise.all(checks.map(async (c) => record(c, await runProbe(c))));
    publish();
  };

  return {
    isReady: () => ready,
    status: () => ({
      ready,
      checks: Object.fromEntries([...state].map(([name, ok]) => [name, ok === true])),
    }),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async start() {
      if (started || loop.stopped) return;
      started = true;
      await round();
      loop.next();
    },
    async refresh() {
      if (!started || loop.stopped) return;
      await round();
    },
    stop() {
      loop.stop();
      publish();
    },
  };
}

/** The probe timing every service's config carries (libs/config `commonServiceConfig`). */
export interface ReadinessTiming {
  readonly READINESS_INTERVAL_MS: number;
  readonly READINESS_TIMEOUT_MS: number;
}

/** {@link createReadiness} timed by the service's config (`READINESS_INTERVAL_MS`, `READINESS_TIMEOUT_MS`). */
export function readinessFromConfig(
  config: ReadinessTiming,
  options: Omit<ReadinessOptions, 'intervalMs' | 'timeoutMs'>,
): Readiness {
  return createReadiness({
    ...options,
    intervalMs: config.READINESS_INTERVAL_MS,
    timeoutMs: config.READINESS_TIMEOUT_MS,
  });
}
