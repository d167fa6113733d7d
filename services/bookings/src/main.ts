import { createLogger } from '@isams-sync/logger';
import { runService } from '@isams-sync/runtime';
import { createBookingsApp } from './app';
import { loadBookingsConfig } from './config';

const config = loadBookingsConfig();
const logger = createLogger({ service: config.SERVICE_NAME ?? 'bookings', level: config.LOG_LEVEL });
const app = createBookingsApp(config, { logger });
await runService({
  logger,
  start: () => app.start(),
  stop: () => app.stop(),
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS + 2_000,
});
