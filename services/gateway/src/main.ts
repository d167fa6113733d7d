import { createLogger } from '@isams-sync/logger';
import { runService } from '@isams-sync/runtime';
import { startTelemetry } from '@isams-sync/telemetry';
import { createGatewayApp } from './app';
import { loadGatewayConfig } from './config';

const config = loadGatewayConfig();
const logger = createLogger({
  service: config.SERVICE_NAME ?? 'gateway',
  level: config.LOG_LEVEL,
  pretty: config.NODE_ENV === 'development',
});
const telemetry = await startTelemetry({ service: config.SERVICE_NAME ?? 'gateway', config, logger });
const app = await createGatewayApp(config, { logger });
await runService({
  logger,
  start: () => app.start(),
  // Spans of the shutdown itself are exported too: tracing stops last.
  stop: () => app.stop().finally(() => telemetry.shutdown()),
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
});
