import { createLogger } from '@isams-sync/logger';
import { runService } from '@isams-sync/runtime';
import { createConnectorApp } from './app';
import { loadConnectorConfig } from './config';

const config = loadConnectorConfig();
const logger = createLogger({ service: config.SERVICE_NAME ?? 'connector', level: config.LOG_LEVEL });
const app = createConnectorApp(config, { logger });
await runService({
  logger,
  start: () => app.start(),
  stop: () => app.stop(),
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS + 2_000,
});
