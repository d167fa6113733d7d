import { createLogger } from '@isams-sync/logger';
import { runService } from '@isams-sync/runtime';
import { startTelemetry } from '@isams-sync/telemetry';
import { createBookingsApp } from './app';
import { loadBookingsConfig } from './config';

const config = loadBookingsConfig();
const logger = createLogger({ service: config.SERVICE_NAME ?? 'bookings', level: config.LOG_LEVEL });
const telemetry = await startTelemetry({ service: config.SERVICE_NAME ?? 'bookings', config, logger });
const app = createBookingsApp(config, { logger });
await runService({
  logger,
  start: () => app.start(),
  // Spans of the shutdown itself are exported too: tracing stops last.
  stop: () => app.stop().finally(() => telemetry.shutdown()),
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS + 2_000,
});
