import { dlqTopicName } from '@isams-sync/events';
import type { Logger } from '@isams-sync/logger';
import type { BackoffOptions } from '../backoff';
import type { BatchEventHandler, EventHandler, RunConsumerOptions } from '../event-consumer';
import type { KafkaClient } from '../kafka-client';
import { classifyHandlerFailure } from '../kafka-failures';
import type { HandlerFailure } from '../kafka-failures';

/** {@link RunConsumerOptions} with every default applied: what the runner's parts read. */
export interface ConsumerSettings {
  client: KafkaClient;
  groupId: string;
  topics: string[];
  handler: EventHandler;
  batchHandler: BatchEventHandler | undefined;
  maxBatchSize: number;
  maxAttempts: number;
  classify: (err: unknown) => HandlerFailure;
  backoff: BackoffOptions;
  dlqFor: (topic: string) => string;
  onDeadLettered: RunConsumerOptions['onDeadLettered'];
  logger: Logger;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  rebalanceTimeoutMs: number;
  maxWaitTimeMs: number;
  maxBytesPerPartition: number;
  fromBeginning: boolean;
  partitionsConsumedConcurrently: number;
  startAttempts: number;
  commitBatchSize: number;
  commitIntervalMs: number;
  recoveryMaxDelayMs: number;
}

/** Applies the defaults documented on {@link RunConsumerOptions}. */
export function consumerSettings(options: RunConsumerOptions): ConsumerSettings {
  const { client, groupId, topics, handler, dlqTopic } = options;
  return {
    client,
    groupId,
    topics,
    handler,
    batchHandler: options.batchHandler,
    maxBatchSize: Math.max(1, options.maxBatchSize ?? 200),
    maxAttempts: options.maxAttempts ?? Number.POSITIVE_INFINITY,
    classify: options.classify ?? classifyHandlerFailure,
    backoff: { initialMs: 200, maxMs: 30_000, ...options.backoff },
    dlqFor: (topic) => (typeof dlqTopic === 'function' ? dlqTopic(topic) : (dlqTopic ?? dlqTopicName(topic))),
    onDeadLettered: options.onDeadLettered,
    logger: (options.logger ?? client.logger).child({ component: 'kafka-consumer', groupId }),
    sessionTimeoutMs: options.sessionTimeoutMs ?? 30_000,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 3000,
    rebalanceTimeoutMs: options.rebalanceTimeoutMs ?? 60_000,
    maxWaitTimeMs: options.maxWaitTimeMs ?? 1000,
    maxBytesPerPartition: options.maxBytesPerPartition ?? 1024 * 1024,
    fromBeginning: options.fromBeginning ?? false,
    partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1,
    startAttempts: Math.max(1, options.startAttempts ?? 10),
    commitBatchSize: Math.max(1, options.commitBatchSize ?? 100),
    commitIntervalMs: options.commitIntervalMs ?? 1000,
    recoveryMaxDelayMs: options.recoveryMaxDelayMs ?? 30_000,
  };
}
