import { runServiceMain } from '@isams-sync/runtime';
import { createConnectorApp } from './app';
import { loadConnectorConfig } from './config';

await runServiceMain({
  service: 'connector',
  config: loadConnectorConfig(),
  createApp: (config, logger) => createConnectorApp(config, { logger }),
  extraShutdownMs: 2_000,
});
