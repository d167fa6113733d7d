import { createLogger } from '@isams-sync/logger';
import { runService } from '@isams-sync/runtime';
import { createGatewayApp } from './app';
import { loadGatewayConfig } from './config';

const config = loadGatewayConfig();
const logger = createLogger({
  service: config.SERVICE_NAME ?? 'gateway',
  level: config.LOG_LEVEL,
  pretty: config.NODE_ENV === 'development',
});
const app = await createGatewayApp(config, { logger });
await runService({
  logger,
  start: () => app.start(),
  stop: () => app.stop(),
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
});
