// Entry of the topic hook Job (`node dist/create-topics/main.js` in the connector image).
import { ConfigError } from '@isams-sync/config';
import { createLogger } from '@isams-sync/logger';
import { createTopics, loadCreateTopicsConfig } from './create-topics';
import type { CreateTopicsConfig } from './create-topics';

let config: CreateTopicsConfig;
try {
  config = loadCreateTopicsConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`create-topics: ${err.message}\n`);
  process.exit(1);
}
const logger = createLogger({ service: 'create-topics', level: config.LOG_LEVEL });
try {
  const result = await createTopics(config, logger);
  logger.info(
    { created: result.created, existing: result.existing, mismatches: result.mismatches },
    `topics: ${result.created.length} created, ${result.existing.length} already present`,
  );
} catch (err) {
  logger.error({ err }, 'creating the declared Kafka topics failed');
  process.exitCode = 1;
}
