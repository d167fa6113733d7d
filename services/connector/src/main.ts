import { createLogger } from '@isams-sync/logger';
import { createConnectorApp } from './app';
import { loadConnectorConfig } from './config';

const config = loadConnectorConfig();
const logger = createLogger({ service: config.SERVICE_NAME ?? 'connector', level: config.LOG_LEVEL });
const app = createConnectorApp(config, { logger });
await app.start();

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  const deadline = setTimeout(() => process.exit(1), config.SHUTDOWN_TIMEOUT_MS + 2_000);
  deadline.unref();
  app.stop().then(
    () => process.exit(0),
    (err: unknown) => {
      logger.error({ err }, 'shutdown failed');
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
