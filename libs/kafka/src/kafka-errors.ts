import { defineErrors } from '@isams-sync/errors';

/** Error catalogue of `@isams-sync/kafka`. All codes start with `KAFKA_`. */
export const KafkaErrors = defineErrors({
  /** The broker could not be reached or the request failed after the client's retries. */
  KAFKA_UNAVAILABLE: {
    kind: 'unavailable',
    message: (d: { operation: string; reason: string }) => `Kafka ${d.operation} failed: ${d.reason}`,
  },
  /** A publish was not acknowledged before its deadline, retries included (`publishDeadlineMs`). */
  KAFKA_PUBLISH_TIMEOUT: {
    kind: 'deadline_exceeded',
    message: (d: { topic: string; timeoutMs: number }) =>
      `Publishing to Kafka topic ${d.topic} was not acknowledged within ${d.timeoutMs} ms (retries included)`,
  },
  /** A publish failed (broker error, connection error after retries, message too large …). */
  KAFKA_PUBLISH_FAILED: {
    kind: 'unavailable',
    message: (d: { topic: string; reason: string }) => `Publishing to ${d.topic} failed: ${d.reason}`,
  },
  /** A Kafka message is not a valid binary-mode CloudEvent (missing ce_ headers, non-JSON value …). */
  KAFKA_MESSAGE_INVALID: {
    kind: 'invalid_argument',
    message: (d: { reason: string }) => `Invalid CloudEvents Kafka message: ${d.reason}`,
  },
  /** A topic named by an operator or a tool does not exist on the cluster. */
  KAFKA_TOPIC_NOT_FOUND: {
    kind: 'not_found',
    message: (d: { topic: string }) => `Kafka topic ${d.topic} does not exist`,
  },
  /** An existing topic differs from its declared spec (e.g. fewer partitions). */
  KAFKA_TOPIC_MISMATCH: {
    kind: 'failed_precondition',
    message: (d: { mismatches: string[] }) =>
      `Kafka topics differ from their spec: ${d.mismatches.join('; ')}`,
  },
  /** A consumer could not start or crashed without restarting. */
  KAFKA_CONSUMER_FAILED: {
    kind: 'unavailable',
    message: (d: { groupId: string; reason: string }) => `Kafka consumer ${d.groupId} failed: ${d.reason}`,
  },
  /** A message could not be written to its dead-letter topic; it will be redelivered. */
  KAFKA_DLQ_PUBLISH_FAILED: {
    kind: 'unavailable',
    message: (d: { dlqTopic: string; reason: string }) =>
      `Dead-lettering to ${d.dlqTopic} failed: ${d.reason}`,
  },
});

/** A short, payload-free description of any thrown value. */
export function reasonOf(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
