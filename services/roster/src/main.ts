import { createLogger } from '@isams-sync/logger';
import { runService } from '@isams-sync/runtime';
import { createRosterApp } from './app';
import { loadRosterConfig } from './config';

const config = loadRosterConfig();
const logger = createLogger({ service: config.SERVICE_NAME ?? 'roster', level: config.LOG_LEVEL });
const app = createRosterApp(config, { logger });
await runService({
  logger,
  start: () => app.start(),
  stop: () => app.stop(),
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS + 2_000,
});
