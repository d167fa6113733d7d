import { createLogger } from '@isams-sync/logger';
import { runService } from '@isams-sync/runtime';
import { startTelemetry } from '@isams-sync/telemetry';
import { createRosterApp } from './app';
import { loadRosterConfig } from './config';

const config = loadRosterConfig();
const logger = createLogger({ service: config.SERVICE_NAME ?? 'roster', level: config.LOG_LEVEL });
const telemetry = await startTelemetry({ service: config.SERVICE_NAME ?? 'roster', config, logger });
const app = createRosterApp(config, { logger });
await runService({
  logger,
  start: () => app.start(),
  // Spans of the shutdown itself are exported too: tracing stops last.
  stop: () => app.stop().finally(() => telemetry.shutdown()),
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS + 2_000,
});
