/**
 * `@isams-sync/kafka` — the thin Kafka adapter (kafkajs 2.2.4 underneath, private to this package):
 * client creation with logs routed into pino, CloudEvents binary-mode mapping, explicit topic
 * creation, an idempotent acks=all producer that rides through broker restarts, a consumer runner
 * with manual commits, retries until success and a dead-letter topic for what can never succeed,
 * the dead-letter replay, and a few read-only helpers for tests and tools. No kafkajs type appears
 * in this surface, so swapping the library is this package's change alone.
 * @packageDocumentation
 */
export { createKafkaClient, kafkaReadinessCheck } from './kafka-client';
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
export { createEventProducer, DEFAULT_PUBLISH_DEADLINE_MS } from './event-producer';
export type {
  EventProducer,
  EventProducerOptions,
  PublishOptions,
  PublishResult,
  RawRecord,
} from './event-producer';
export { runConsumer, DLQ_HEADERS, isTopicNotReadyError } from './event-consumer';
export type {
  RunConsumerOptions,
  ConsumerHandle,
  ConsumerContext,
  EventHandler,
  BatchEventHandler,
  BatchConsumerContext,
} from './event-consumer';
export { classifyHandlerFailure, isPermanentKafkaError } from './kafka-failures';
export type { HandlerFailure } from './kafka-failures';
export { listDeadLetters, replayDeadLetters, originalRecord, toDeadLetter } from './dlq-replay';
export type { DeadLetter, DeadLetterFilter, ReplayOptions, ReplayResult } from './dlq-replay';
export {
  readTopic,
  tailTopic,
  topicOffsets,
  groupOffsets,
  consumerGroupLag,
  createRawProducer,
} from './topic-tools';
export type {
  TopicRecord,
  TopicLag,
  PartitionOffsets,
  ReadTopicOptions,
  TailTopicOptions,
  TopicTail,
  RawProducer,
} from './topic-tools';
export { backoffDelay } from './backoff';
export type { BackoffOptions } from './backoff';
export { KafkaErrors } from './kafka-errors';
export {
  kafkaServiceConfig,
  kafkaClientOptionsFromConfig,
  kafkaProducerOptionsFromConfig,
  kafkaConsumerOptionsFromConfig,
} from './kafka-service-config';
export type { KafkaServiceConfig } from './kafka-service-config';
export { serviceBroker } from './service-broker';
export type { ServiceBrokerOptions } from './service-broker';
