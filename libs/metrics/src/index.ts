/**
 * `@isams-sync/metrics` — a per-service Prometheus registry with idempotent metric factories, and
 * the ops HTTP server (`/metrics`, `/health`, `/ready`) every service runs.
 * @packageDocumentation
 */
export { createMetrics } from './create-metrics';
export type { CreateMetricsOptions, Metrics, MetricConfig, HistogramConfig } from './create-metrics';
export { startOpsServer } from './ops-server';
export type { OpsServerOptions, OpsServer } from './ops-server';
/** prom-client metric types returned by the {@link Metrics} factories. */
export type { Counter, Gauge, Histogram, Registry } from 'prom-client';
export { createReadiness, DEPENDENCY_UP_METRIC, readinessFromConfig } from './readiness';
export type { DependencyCheck, Readiness, ReadinessOptions, ReadinessStatus } from './readiness';
export { deadLetterCounter, DEAD_LETTERS_METRIC } from './shared-metrics';
export { startSampler, consumerLagSample, boundedLabel, CONSUMER_LAG_METRIC } from './sampler';
export type { Sample, Sampler, SamplerOptions } from './sampler';
