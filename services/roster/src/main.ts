import { createLogger } from '@isams-sync/logger';
import { createRosterApp } from './app';
import { loadRosterConfig } from './config';

const config = loadRosterConfig();
const logger = createLogger({ service: config.SERVICE_NAME ?? 'roster', level: config.LOG_LEVEL });
const app = createRosterApp(config, { logger });
await app.start();

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping');
  const deadline = setTimeout(() => process.exit(1), config.SHUTDOWN_TIMEOUT_MS);
  deadline.unref();
  app.stop().then(
    () => process.exit(0),
    (err: unknown) => {
      logger.error({ err }, 'stop failed');
      process.exit(1);
    },
  );
};
process.once('SIGTERM', () => stop('SIGTERM'));
process.once('SIGINT', () => stop('SIGINT'));
