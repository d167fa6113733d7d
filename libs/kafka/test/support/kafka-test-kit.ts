import { getTestInfra, uniqueName } from '@isams-sync/testing';
import { createLogger } from '@isams-sync/logger';
import type { Logger } from '@isams-sync/logger';
import type { TopicSpec } from '@isams-sync/events';
import { platformPingV1 } from '@isams-sync/events';
import type { CloudEvent } from '@isams-sync/events';
import { createKafkaClient, ensureTopics, groupOffsets, readTopic } from '../../src/index';
import type { KafkaClient, KafkaClientOptions, TopicRecord } from '../../src/index';

/** Quiet by default; `TEST_LOG_LEVEL=debug` shows kafkajs logs. */
export const testLogger: Logger = createLogger({
  service: 'kafka-test',
  level: (process.env.TEST_LOG_LEVEL as 'debug' | undefined) ?? 'silent',
});

/** Short timeouts so failures surface fast. */
export const FAST_GROUP = { sessionTimeoutMs: 6000, heartbeatIntervalMs: 1000, rebalanceTimeoutMs: 10_000 };

export function testClient(overrides: Partial<KafkaClientOptions> = {}): KafkaClient {
  return createKafkaClient({
    brokers: getTestInfra().kafkaBrokers,
    clientId: uniqueName('kafka-test'),
    logger: testLogger,
    connectionTimeoutMs: 3000,
    requestTimeoutMs: 10_000,
    retry: { retries: 3, initialRetryTimeMs: 100, maxRetryTimeMs: 1000 },
    ...overrides,
  });
}

/** A fresh topic and its DLQ, created through ensureTopics. */
export async function freshTopic(
  client: KafkaClient,
  partitions = 3,
): Promise<{ topic: string; dlq: string }> {
  const topic = uniqueName('it-topic');
  const specs: TopicSpec[] = [
    { name: topic, partitions, configEntries: {}, keying: 'tenant', description: 'test' },
    { name: `${topic}.dlq`, partitions: 1, configEntries: {}, keying: 'tenant', description: 'test dlq' },
  ];
  await ensureTopics(client, specs);
  return { topic, dlq: `${topic}.dlq` };
}

export function pings(count: number, tenants: string[], runId = uniqueName('run')): CloudEvent[] {
  return Array.from({ length: count }, (_, i) =>
    platformPingV1.create({
      tenantId: tenants[i % tenants.length]!,
      idParts: [runId, String(i)],
      subject: `ping-${i}`,
      syncRunId: runId,
      data: { message: `ping ${i}`, sequence: i },
    }),
  );
}

/** A received record with its partition. */
export type RawRecord = TopicRecord;

/** Reads every raw message of `topic` from the beginning until `count` arrived. */
export async function readRaw(client: KafkaClient, topic: string, count: number): Promise<RawRecord[]> {
  return readTopic(client, topic, { until: (records) => records.length >= count, timeoutMs: 30_000 });
}

/** The committed offset of `groupId` per partition of `topic` (-1 = none). */
export function committedOffsets(
  client: KafkaClient,
  groupId: string,
  topic: string,
): Promise<Record<number, string>> {
  return groupOffsets(client, groupId, topic);
}
