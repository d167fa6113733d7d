import { createLogger } from '@isams-sync/logger';
import { createSimulatorApp } from './app';
import { loadSimulatorConfig } from './config';

// Dev/test only: the simulator is never part of the production chart.
const config = loadSimulatorConfig();
const logger = createLogger({ service: config.SERVICE_NAME ?? 'isams-simulator', level: config.LOG_LEVEL });
const app = createSimulatorApp(config, { logger });
await app.listen({ host: config.SIM_HOST, port: config.SIM_PORT });

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  const deadline = setTimeout(() => process.exit(1), config.SHUTDOWN_TIMEOUT_MS);
  deadline.unref();
  app.close().then(
    () => process.exit(0),
    (err: unknown) => {
      logger.error({ err }, 'shutdown failed');
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
