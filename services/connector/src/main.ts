import { createLogger } from '@isams-sync/logger';
import { runService } from '@isams-sync/runtime';
import { startTelemetry } from '@isams-sync/telemetry';
import { createConnectorApp } from './app';
import { loadConnectorConfig } from './config';

const config = loadConnectorConfig();
const logger = createLogger({ service: config.SERVICE_NAME ?? 'connector', level: config.LOG_LEVEL });
const telemetry = await startTelemetry({ service: config.SERVICE_NAME ?? 'connector', config, logger });
const app = createConnectorApp(config, { logger });
await runService({
  logger,
  start: () => app.start(),
  // Spans of the shutdown itself are exported too: tracing stops last.
  stop: () => app.stop().finally(() => telemetry.shutdown()),
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS + 2_000,
});
