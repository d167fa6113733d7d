import type { LoggerLike } from '@isams-sync/logger';
import type { Metrics } from './create-metrics';
import { roundLoop } from './round-loop';

/** One figure taken from a dependency (a database query, a Kafka admin request) into gauges. */
export interface Sample {
  /** Short, fixed name used in logs, e.g. `consumer-lag`. */
  readonly name: string;
  /** Reads the figure and sets the gauges; a rejection leaves them as they were (and is logged). */
  take(): Promise<void>;
}

/** Options of {@link startSampler}. */
export interface SamplerOptions {
  readonly samples: readonly Sample[];
  /** Pause between the end of one round and the start of the next (`METRICS_SAMPLE_INTERVAL_MS`). */
  readonly intervalMs: number;
  readonly logger: LoggerLike;
}

/** A running {@link startSampler}. */
export interface Sampler {
  /** One round now (every sample once); resolves when it is done. Rounds never overlap. */
  refresh(): Promise<void>;
  /** Stops the rounds; resolves once a round in progress has finished (which may wait on its dependency). */
  stop(): Promise<void>;
}

/**
 * Keeps gauges that are computed from a dependency — never on a scrape, so `/metrics` never waits on
 * Kafka or the database: a first round at once (not awaited), then one round every `intervalMs` after
 * the previous one ended. A failing sample is logged at `warn` once per failure streak (and `info`
 * when it works again); its gauges keep their last value.
 */
export function startSampler(options: SamplerOptions): Sampler {
  const { samples, intervalMs, logger } = options;
  if (!(intervalMs >= 100))
    throw new Error(`startSampler: intervalMs must be at least 100 (got ${intervalMs})`);
  const failing = new Set<string>();
  let running: Promise<void> | undefined;

  const takeOne = async (s: Sample) => {
    try {
      await s.take();
      if (failing.delete(s.name)) logger.info({ sample: s.name }, 'metric sample taken again');
    } catch (err) {
      if (!failing.has(s.name))
        logger.warn({ sample: s.name, err }, 'metric sample failed; gauges keep their last value');
      failing.add(s.name);
    }
  };
  const round = (): Promise<void> => {
    running ??= Promise.all(samples.map(takeOne))
      .then(() => undefined)
      .finally(() => (running = undefined));
    return running;
  };
  const loop = roundLoop(round, intervalMs);
  void round().finally(loop.next);
  return {
    refresh: round,
    async stop() {
      loop.stop();
      await running;
    },
  };
}

/** The gauge {@link consumerLagSample} keeps (labels `group`, `topic`). */
export const CONSUMER_LAG_METRIC = 'isams_sync_consumer_lag_messages';

/**
 * A {@link Sample} of a consumer group's lag: `lag()` answers the messages behind per topic (the
 * topic's end offsets minus the group's committed offsets, summed over partitions — `consumerGroupLag`
 * of `@isams-sync/kafka`), kept as `isams_sync_consumer_lag_messages{group, topic}`. Both labels are
 * this service's own configured names: bounded.
 */
export function consumerLagSample(
  metrics: Metrics,
  group: string,
  lag: () => Promise<ReadonlyArray<{ topic: string; lag: number }>>,
): Sample {
  const gauge = metrics.gauge<'group' | 'topic'>({
    name: CONSUMER_LAG_METRIC,
    help: 'Messages the consumer group has not committed yet, per topic (end offsets minus committed offsets, summed over partitions)',
    labelNames: ['group', 'topic'],
  });
  return {
    name: 'consumer-lag',
    async take() {
      for (const t of await lag()) gauge.set({ group, topic: t.topic }, t.lag);
    },
  };
}

/**
 * A label value from a known, bounded set — anything else is `other` — so a label never takes an
 * unbounded value (a school id, a message text, a raw URL).
 */
export function boundedLabel(value: string | undefined, known: ReadonlySet<string>, other = 'other'): string {
  return value !== undefined && known.has(value) ? value : other;
}
