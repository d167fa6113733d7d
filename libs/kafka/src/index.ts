/**
 * `@isams-sync/kafka` — the thin Kafka adapter (kafkajs 2.2.4 underneath): client creation with
 * logs routed into pino, CloudEvents binary-mode mapping, explicit topic creation, an idempotent
 * acks=all producer and a consumer runner with manual commits, retries and a dead-letter topic.
 * @packageDocumentation
 */
export { createKafkaClient, pinoLogCreator } from './kafka-client';
export type {
  KafkaClient,
  KafkaClientOptions,
  KafkaSslOptions,
  KafkaSaslOptions,
  KafkaRetryOptions,
} from './kafka-client';
export {
  toKafkaMessage,
  fromKafkaMessage,
  headerValue,
  CE_HEADER_PREFIX,
  CONTENT_TYPE_HEADER,
} from './cloudevents-binding';
export type {
  KafkaOutgoingMessage,
  KafkaIncomingMessage,
  ToKafkaMessageOptions,
} from './cloudevents-binding';
export { ensureTopics, describeTopic, deleteTopics } from './topic-admin';
export type { EnsureTopicsOptions, EnsureTopicsResult } from './topic-admin';
export { createEventProducer } from './event-producer';
export type { EventProducer, EventProducerOptions, PublishOptions, PublishResult } from './event-producer';
export { runConsumer, DLQ_HEADERS, isTopicNotReadyError } from './event-consumer';
export type { RunConsumerOptions, ConsumerHandle, ConsumerContext, EventHandler } from './event-consumer';
export { backoffDelay } from './backoff';
export type { BackoffOptions } from './backoff';
export { KafkaErrors } from './kafka-errors';
export { kafkaServiceConfig, kafkaClientOptionsFromConfig } from './kafka-service-config';
export type { KafkaServiceConfig } from './kafka-service-config';
