import type { TopicSpec } from '@isams-sync/events';
import type { Logger } from '@isams-sync/logger';
import { createEventProducer } from './event-producer';
import type { EventProducer, EventProducerOptions } from './event-producer';
import { createKafkaClient } from './kafka-client';
import type { KafkaClient } from './kafka-client';
import { kafkaClientOptionsFromConfig, kafkaProducerOptionsFromConfig } from './kafka-service-config';
import type { KafkaServiceConfig } from './kafka-service-config';
import { ensureTopics } from './topic-admin';

/** Options of {@link serviceBroker}. */
export interface ServiceBrokerOptions {
  /** The service's name: the client id unless `KAFKA_CLIENT_ID` is set. */
  service: string;
  logger: Logger;
  /** The service's topics, created (or checked) when `KAFKA_ENSURE_TOPICS` is on. */
  topics: readonly TopicSpec[];
  /** An existing topic with another partition count: `error` refuses the start, `warn` only logs. */
  onTopicMismatch: 'error' | 'warn';
  /** Producer settings beyond the environment's (e.g. a smaller `maxBatchSize` for large events). */
  producer?: Pick<EventProducerOptions, 'maxBatchSize'>;
  /** The client to use (one made before, e.g. for readiness probes); by default one is made from the environment. */
  kafka?: KafkaClient;
  /** Given the producer before it connects, so the caller's stop closes it also when connecting fails. */
  onProducer(producer: EventProducer): void;
}

/**
 * A service's broker at start-up, from its Kafka environment: the client, the service's topics
 * (when it provisions them, with `KAFKA_TOPIC_REPLICATION_FACTOR`) and its connected producer.
 */
export async function serviceBroker(
  config: KafkaServiceConfig,
  opts: ServiceBrokerOptions,
): Promise<{ kafka: KafkaClient; producer: EventProducer }> {
  const { logger } = opts;
  const kafka =
    opts.kafka ?? createKafkaClient(kafkaClientOptionsFromConfig(config, { service: opts.service, logger }));
  if (config.KAFKA_ENSURE_TOPICS) {
    await ensureTopics(kafka, opts.topics, {
      replicationFactor: config.KAFKA_TOPIC_REPLICATION_FACTOR,
      logger,
      onMismatch: opts.onTopicMismatch,
    });
  }
  const producer = createEventProducer(kafka, {
    logger,
    ...kafkaProducerOptionsFromConfig(config),
    ...opts.producer,
  });
  opts.onProducer(producer);
  await producer.connect();
  return { kafka, producer };
}
