import { getTestInfra, uniqueName } from '@isams-sync/testing';
import { createLogger } from '@isams-sync/logger';
import type { Logger } from '@isams-sync/logger';
import type { TopicSpec } from '@isams-sync/events';
import { platformPingV1 } from '@isams-sync/events';
import type { CloudEvent } from '@isams-sync/events';
import type { KafkaMessage } from 'kafkajs';
import { createKafkaClient, ensureTopics } from '../../src/index';
import type { KafkaClient, KafkaClientOptions } from '../../src/index';

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

/** Polls `check` until it returns true (or throws after `timeoutMs`, naming `what`). */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A received record with its partition. */
export type RawRecord = KafkaMessage & { partition: number };

/** Reads every raw message of `topic` from the beginning until `count` arrived. */
export async function readRaw(client: KafkaClient, topic: string, count: number): Promise<RawRecord[]> {
  const consumer = client.kafka.consumer({
    groupId: uniqueName('raw-reader'),
    sessionTimeout: 6000,
    heartbeatInterval: 1000,
  });
  const messages: RawRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message, partition }) => void messages.push({ ...message, partition }),
    });
    await waitFor(`${count} raw messages on ${topic}`, () => messages.length >= count);
  } finally {
    await consumer.disconnect();
  }
  return messages;
}

/** The committed offset of `groupId` per partition of `topic` (-1 = none). */
export async function committedOffsets(
  client: KafkaClient,
  groupId: string,
  topic: string,
): Promise<Record<number, string>> {
  const admin = client.kafka.admin();
  await admin.connect();
  try {
    const [result] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return Object.fromEntries((result?.partitions ?? []).map((p) => [p.partition, p.offset]));
  } finally {
    await admin.disconnect();
  }
}
