import type { TopicSpec } from '@isams-sync/events';
import type { Admin } from 'kafkajs';
import { ConfigResourceTypes } from './kafkajs-runtime';
import type { Logger } from '@isams-sync/logger';
import { withAdmin } from './kafka-client';
import type { KafkaClient } from './kafka-client';
import { KafkaErrors, reasonOf } from './kafka-errors';

/** Options of {@link ensureTopics}. */
export interface EnsureTopicsOptions {
  /** Overrides every spec's replication factor (e.g. from the environment); else spec, else broker default. */
  replicationFactor?: number;
  /** `error` (default) throws `KAFKA_TOPIC_MISMATCH` when an existing topic has a different partition count; `warn` only logs. */
  onMismatch?: 'error' | 'warn';
  logger?: Logger;
  /** How long to wait for new topics' partitions to get leaders (default 30000). */
  leaderTimeoutMs?: number;
}

/** What {@link ensureTopics} did. */
export interface EnsureTopicsResult {
  created: string[];
  existing: string[];
  /** Human-readable differences of existing topics (empty when all match). */
  mismatches: string[];
}

/**
 * Creates the declared topics that do not exist yet (never relying on broker auto-creation) and
 * checks the partition count of those that do. Idempotent and safe to run concurrently.
 * @throws AppError `KAFKA_TOPIC_MISMATCH` (with `onMismatch: 'error'`) or `KAFKA_UNAVAILABLE`.
 */
export async function ensureTopics(
  client: KafkaClient,
  specs: readonly TopicSpec[],
  options: EnsureTopicsOptions = {},
): Promise<EnsureTopicsResult> {
  const logger = options.logger ?? client.logger;
  let result: EnsureTopicsResult;
  try {
    result = await withAdmin(client, async (admin) => {
      const present = new Set(await admin.listTopics());
      const missing = specs.filter((s) => !present.has(s.name));
      const created: string[] = [];
      if (missing.length > 0) {
        // kafkajs' own waitForLeaders gives up on UNKNOWN_TOPIC_OR_PARTITION, which a KRaft broker
        // returns briefly after creation; waitForTopicLeaders retries that too.
        await admin.createTopics({
          waitForLeaders: false,
          topics: missing.map((s) => ({
            topic: s.name,
            numPartitions: s.partitions,
            replicationFactor: options.replicationFactor ?? s.replicationFactor ?? -1,
            configEntries: Object.entries(s.configEntries).map(([name, value]) => ({ name, value })),
          })),
        });
        created.push(...missing.map((s) => s.name));
        await waitForTopicLeaders(admin, created, options.leaderTimeoutMs ?? 30_000);
      }
      const existingSpecs = specs.filter((s) => present.has(s.name));
      const mismatches: string[] = [];
      if (existingSpecs.length > 0) {
        const meta = await admin.fetchTopicMetadata({ topics: existingSpecs.map((s) => s.name) });
        for (const spec of existingSpecs) {
          const actual = meta.topics.find((t) => t.name === spec.name)?.partitions.length ?? 0;
          if (actual !== spec.partitions)
            mismatches.push(`${spec.name} has ${actual} partitions, spec says ${spec.partitions}`);
        }
      }
      return { created, existing: existingSpecs.map((s) => s.name), mismatches };
    });
  } catch (err) {
    throw KafkaErrors.KAFKA_UNAVAILABLE({ operation: 'ensureTopics', reason: reasonOf(err) }, { cause: err });
  }
  logger.info({ created: result.created, existing: result.existing.length }, 'kafka topics ensured');
  if (result.mismatches.length > 0) {
    if ((options.onMismatch ?? 'error') === 'error')
      throw KafkaErrors.KAFKA_TOPIC_MISMATCH({ mismatches: result.mismatches });
    logger.warn({ mismatches: result.mismatches }, 'kafka topics differ from their spec');
  }
  return result;
}

async function waitForTopicLeaders(admin: Admin, topics: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const meta = await admin.fetchTopicMetadata({ topics });
      const ready =
        meta.topics.length === topics.length &&
        meta.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0));
      if (ready) return;
    } catch (err) {
      const type = (err as { type?: string }).type;
      if (type !== 'UNKNOWN_TOPIC_OR_PARTITION' && type !== 'LEADER_NOT_AVAILABLE') throw err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for leaders of ${topics.join(', ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Partition count and configs of a topic as the broker reports them (for checks and tests). */
export async function describeTopic(
  client: KafkaClient,
  topic: string,
): Promise<{ partitions: number; configs: Record<string, string> }> {
  return withAdmin(client, async (admin) => {
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }],
    });
    const configs: Record<string, string> = {};
    for (const entry of described.resources[0]?.configEntries ?? [])
      configs[entry.configName] = entry.configValue;
    return { partitions: meta.topics[0]?.partitions.length ?? 0, configs };
  });
}

/** Topics per delete request (a test run may leave thousands). */
const DELETE_TOPICS_PER_REQUEST = 100;

/**
 * Deletes the given topics — or those the predicate picks — that exist (tests and dev tooling
 * only); resolves to the names deleted.
 */
export async function deleteTopics(
  client: KafkaClient,
  topics: readonly string[] | ((name: string) => boolean),
): Promise<string[]> {
  return withAdmin(client, async (admin) => {
    const present = new Set(await admin.listTopics());
    const doomed =
      typeof topics === 'function' ? [...present].filter(topics) : topics.filter((t) => present.has(t));
    for (let i = 0; i < doomed.length; i += DELETE_TOPICS_PER_REQUEST)
      await deleteExisting(admin, doomed.slice(i, i + DELETE_TOPICS_PER_REQUEST));
    return doomed;
  });
}

/**
 * Deletes topics; one that went meanwhile (another client's delete, still listed a moment before)
 * fails the whole request with UNKNOWN_TOPIC_OR_PARTITION — the others of it are deleted — so those
 * still listed are asked for again, a few times.
 */
async function deleteExisting(admin: Admin, topics: string[]): Promise<void> {
  for (let attempt = 1; topics.length > 0; attempt++) {
    try {
      await admin.deleteTopics({ topics, timeout: 30_000 });
      return;
    } catch (err) {
      if (attempt >= 3 || !isUnknownTopic(err)) throw err;
      const present = new Set(await admin.listTopics());
      topics = topics.filter((t) => present.has(t));
    }
  }
}

/** Whether kafkajs's error (or the one its retries gave up on) is UNKNOWN_TOPIC_OR_PARTITION. */
function isUnknownTopic(err: unknown): boolean {
  for (let e = err as { type?: unknown; cause?: unknown; originalError?: unknown } | undefined; e;) {
    if (e.type === 'UNKNOWN_TOPIC_OR_PARTITION') return true;
    e = (e.originalError ?? e.cause) as typeof e;
  }
  return false;
}
