import type { CommonServiceConfig } from '@isams-sync/config';
import { consumerGroupLag, kafkaConsumerOptionsFromConfig, runConsumer } from '@isams-sync/kafka';
import type { ConsumerHandle, KafkaClient, KafkaServiceConfig, RunConsumerOptions } from '@isams-sync/kafka';
import type { Logger } from '@isams-sync/logger';
import { consumerLagSample, deadLetterCounter, startSampler } from '@isams-sync/metrics';
import type { Metrics, Sample, Sampler } from '@isams-sync/metrics';
import { serviceStartStep } from './service-infra';
import type { ServiceStartStepOptions } from './service-infra';

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

/** Options of {@link startServiceConsumer}. */
export interface ServiceConsumerStartOptions extends ServiceStartStepOptions {
  /** Where the consumer is recorded the moment it runs, so the service's stop stops it. */
  parts: ServiceStartStepOptions['parts'] & { consumer?: ConsumerHandle };
}

/**
 * The service's consumer (`runConsumer`) up to its first join (`ready`), a start-up step
 * ({@link serviceStartStep}): one that could not connect or join because Kafka was lost meanwhile
 * (`KAFKA_CONSUMER_FAILED`) is stopped and started again with the same back-off, so the start waits,
 * not ready, instead of failing. Nothing is consumed before the join, so starting again is harmless.
 */
export function startServiceConsumer(
  options: RunConsumerOptions,
  opts: ServiceConsumerStartOptions,
): Promise<ConsumerHandle> {
  const { parts } = opts;
  return serviceStartStep(
    'consumer',
    async () => {
      const consumer = (parts.consumer = runConsumer(options));
      try {
        await consumer.ready;
        return consumer;
      } catch (err) {
        parts.consumer = undefined;
        await consumer.stop().catch(() => undefined);
        throw err;
      }
    },
    opts,
  );
}
