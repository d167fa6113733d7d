import { AppError } from '@isams-sync/errors';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Options of {@link createMetrics}. */
export interface CreateMetricsOptions {
  /** Service name, added to every series as the `service` label. */
  service: string;
  /** Collect prom-client's default process/Node.js metrics. Default true. */
  collectDefault?: boolean;
}

/** Common fields of a metric definition. */
export interface MetricConfig<L extends string> {
  /** Prometheus name, e.g. `connector_batches_fetched_total`. */
  name: string;
  help: string;
  labelNames?: readonly L[];
}

/** A histogram definition; `buckets` default to prom-client's defaults (seconds). */
export interface HistogramConfig<L extends string> extends MetricConfig<L> {
  buckets?: number[];
}

/** A service's metrics: its own registry and idempotent metric factories. */
export interface Metrics {
  /** The prom-client registry (not the global one). */
  readonly registry: Registry;
  /** The `Content-Type` of {@link Metrics.render}'s output. */
  readonly contentType: string;
  /** A counter; returns the existing one when `name` was registered before. */
  counter<L extends string = string>(config: MetricConfig<L>): Counter<L>;
  /** A histogram; returns the existing one when `name` was registered before. */
  histogram<L extends string = string>(config: HistogramConfig<L>): Histogram<L>;
  /** A gauge; returns the existing one when `name` was registered before. */
  gauge<L extends string = string>(config: MetricConfig<L>): Gauge<L>;
  /** The Prometheus text exposition of every metric in the registry. */
  render(): Promise<string>;
}

type MetricClass = typeof Counter | typeof Histogram | typeof Gauge;

/**
 * Creates the metrics of one service: a fresh prom-client `Registry` with the default label
 * `service`, default process metrics (unless `collectDefault: false`), and metric factories that
 * are idempotent per name, so modules can declare the metrics they use without coordinating.
 *
 * @example
 * ```ts
 * const metrics = createMetrics({ service: 'connector' });
 * const fetched = metrics.counter({ name: 'connector_batches_fetched_total', help: 'Batches fetched', labelNames: ['dataset'] });
 * fetched.inc({ dataset: 'pupils' });
 * ```
 */
export function createMetrics(opts: CreateMetricsOptions): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service: opts.service });
  if (opts.collectDefault ?? true) collectDefaultMetrics({ register: registry });

  function existing<T>(name: string, type: MetricClass): T | undefined {
    const metric = registry.getSingleMetric(name);
    if (metric === undefined) return undefined;
    if (!(metric instanceof type)) {
      throw new AppError({
        code: 'METRICS_TYPE_CONFLICT',
        kind: 'internal',
        message: `Metric ${name} is already registered as a different type`,
        details: { name },
      });
    }
    return metric as T;
  }

  /** What every new metric is made with: its name, help and label names, in this registry. */
  function baseOptions<L extends string>(config: MetricConfig<L>) {
    return {
      name: config.name,
      help: config.help,
      labelNames: config.labelNames ?? [],
      registers: [registry],
    };
  }

  return {
    registry,
    contentType: registry.contentType,
    counter<L extends string = string>(config: MetricConfig<L>): Counter<L> {
      return existing<Counter<L>>(config.name, Counter) ?? new Counter<L>(baseOptions(config));
    },
    histogram<L extends string = string>(config: HistogramConfig<L>): Histogram<L> {
      return (
        existing<Histogram<L>>(config.name, Histogram) ??
        new Histogram<L>({
          ...baseOptions(config),
          ...(config.buckets ? { buckets: config.buckets } : {}),
        })
      );
    },
    gauge<L extends string = string>(config: MetricConfig<L>): Gauge<L> {
      return existing<Gauge<L>>(config.name, Gauge) ?? new Gauge<L>(baseOptions(config));
    },
    render: () => registry.metrics(),
  };
}
