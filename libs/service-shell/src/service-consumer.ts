import type { CommonServiceConfig } from '@isams-sync/config';
import { consumerGroupLag, kafkaConsumerOptionsFromConfig } from '@isams-sync/kafka';
import type { KafkaClient, KafkaServiceConfig, RunConsumerOptions } from '@isams-sync/kafka';
import type { Logger } from '@isams-sync/logger';
import { consumerLagSample, deadLetterCounter, startSampler } from '@isams-sync/metrics';
import type { Metrics, Sample, Sampler } from '@isams-sync/metrics';

/** The consumer group a service runs: the same for its consumer and its lag gauge. */
export interface ServiceConsumerGroup {
  readonly groupId: string;
  readonly topic: string;
  /** Where a group without a committed offset starts (and so how its lag is counted). */
  readonly fromBeginning: boolean;
}

/**
 * The test seam of a short consumer session (tests that kill a consumer want its partitions back in
 * seconds, not after the default 30 s): the session timeout, and a heartbeat of a sixth of it —
 * the ratio of the defaults' 30 s / 3 s is a tenth, and a heartbeat must stay well under a third
 * of the session; a sixth gives the 1 s heartbeat of a 6 s session that the services' tests use,
 * and stays in proportion for any other. Nothing (the defaults) when `sessionTimeoutMs` is unset.
 */
export function shortSessionOverride(
  sessionTimeoutMs: number | undefined,
): Pick<RunConsumerOptions, 'sessionTimeoutMs' | 'heartbeatIntervalMs'> {
  return sessionTimeoutMs === undefined
    ? {}
    : { sessionTimeoutMs, heartbeatIntervalMs: Math.floor(sessionTimeoutMs / 6) };
}

/** What a service's consumer options are made of, beside its handlers. */
export interface ServiceConsumerOptions {
  kafka: KafkaClient;
  metrics: Metrics;
  logger: Logger;
  group: ServiceConsumerGroup;
  /** {@link shortSessionOverride} (tests). */
  sessionTimeoutMs?: number | undefined;
}

/**
 * A service's `runConsumer` options but its handlers: the group and its one topic, the environment's
 * retry back-off, dead letters counted (`isams_sync_dead_letters_total`), the service's logger.
 */
export function serviceConsumerOptions(
  config: KafkaServiceConfig,
  opts: ServiceConsumerOptions,
): Omit<RunConsumerOptions, 'handler'> {
  const { group } = opts;
  return {
    client: opts.kafka,
    ...kafkaConsumerOptionsFromConfig(config),
    groupId: group.groupId,
    topics: [group.topic],
    fromBeginning: group.fromBeginning,
    onDeadLettered: deadLetterCounter(opts.metrics),
    logger: opts.logger,
    ...shortSessionOverride(opts.sessionTimeoutMs),
  };
}

/**
 * Samples the group's lag (`isams_sync_consumer_lag_messages`) every `METRICS_SAMPLE_INTERVAL_MS`,
 * with the service's other `samples` after it.
 */
export function startConsumerLagSampler(
  config: Pick<CommonServiceConfig, 'METRICS_SAMPLE_INTERVAL_MS'>,
  opts: {
    kafka: KafkaClient;
    metrics: Metrics;
    logger: Logger;
    group: ServiceConsumerGroup;
    samples?: Sample[];
  },
): Sampler {
  const { kafka, group } = opts;
  return startSampler({
    intervalMs: config.METRICS_SAMPLE_INTERVAL_MS,
    logger: opts.logger,
    samples: [
      consumerLagSample(opts.metrics, group.groupId, () =>
        consumerGroupLag(kafka, group.groupId, [group.topic], { fromBeginning: group.fromBeginning }),
      ),
      ...(opts.samples ?? []),
    ],
  });
}
