import { createLogger } from '@isams-sync/logger';
import { createBookingsApp } from './app';
import { loadBookingsConfig } from './config';

const config = loadBookingsConfig();
const logger = createLogger({ service: config.SERVICE_NAME ?? 'bookings', level: config.LOG_LEVEL });
const app = createBookingsApp(config, { logger });
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
