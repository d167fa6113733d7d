// Creates the declared topics (TOPICS from @isams-sync/events) that do not exist yet and checks
// the existing ones, for local setups (plaintext only; the Helm hook runs tools/build/create-topics.ts):
//   KAFKA_BROKERS=127.0.0.1:19092 tsx libs/kafka/src/cli/create-topics.ts [--dry-run]
// Exit codes: 0 ok, 1 Kafka/topic error, 2 bad configuration.
import { TOPICS } from '@isams-sync/events';
import { createLogger } from '@isams-sync/logger';
import { isAppError } from '@isams-sync/errors';
import { createKafkaClient } from '../kafka-client';
import { ensureTopics } from '../topic-admin';
import { loadCreateTopicsConfig } from './create-topics.config';

async function main(): Promise<number> {
  if (process.argv.includes('--dry-run')) {
    for (const t of TOPICS) {
      const configs = Object.entries(t.configEntries)
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      console.log(`${t.name}\tpartitions=${t.partitions}\t${configs}`);
    }
    return 0;
  }
  let config;
  try {
    config = loadCreateTopicsConfig();
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    return 2;
  }
  const logger = createLogger({ service: 'create-topics', level: config.LOG_LEVEL });
  const client = createKafkaClient({
    brokers: config.KAFKA_BROKERS,
    clientId: config.KAFKA_CLIENT_ID,
    logger,
  });
  try {
    const result = await ensureTopics(client, TOPICS, {
      ...(config.KAFKA_REPLICATION_FACTOR === undefined
        ? {}
        : { replicationFactor: config.KAFKA_REPLICATION_FACTOR }),
      onMismatch: config.KAFKA_TOPIC_MISMATCH,
    });
    console.log(
      `topics: ${result.created.length} created, ${result.existing.length} existing, ${result.mismatches.length} mismatched`,
    );
    return 0;
  } catch (err) {
    console.error(isAppError(err) ? `${err.code}: ${err.message}` : String(err));
    return 1;
  }
}

process.exitCode = await main();
