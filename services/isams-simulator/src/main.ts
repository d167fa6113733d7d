import { createLogger } from '@isams-sync/logger';
import { runService } from '@isams-sync/runtime';
import { createSimulatorApp } from './app';
import { loadSimulatorConfig } from './config';

// Dev/test only: the simulator is never part of the production chart.
const config = loadSimulatorConfig();
const logger = createLogger({ service: config.SERVICE_NAME ?? 'isams-simulator', level: config.LOG_LEVEL });
const app = createSimulatorApp(config, { logger });
await runService({
  logger,
  start: async () => void (await app.listen({ host: config.SIM_HOST, port: config.SIM_PORT })),
  stop: () => app.close(),
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
});
