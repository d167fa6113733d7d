import type { Metrics } from './create-metrics';

/** The counter {@link deadLetterCounter} keeps (labels `topic`, `error_code`). */
export const DEAD_LETTERS_METRIC = 'isams_sync_dead_letters_total';

/**
 * The `onDeadLettered` hook of a Kafka consumer (`runConsumer` of `@isams-sync/kafka`) counting
 * `isams_sync_dead_letters_total{topic, error_code}`: the source topic and the catalogue error code,
 * both bounded — never a school or an event id.
 */
export function deadLetterCounter(
  metrics: Metrics,
): (e: { topic: string; dlqTopic: string; errorCode: string }) => void {
  const counter = metrics.counter<'topic' | 'error_code'>({
    name: DEAD_LETTERS_METRIC,
    help: 'Messages this consumer wrote to a dead-letter topic, by source topic and error code',
    labelNames: ['topic', 'error_code'],
  });
  return (e) => counter.inc({ topic: e.topic, error_code: e.errorCode });
}
