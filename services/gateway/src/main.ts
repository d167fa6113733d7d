import { runServiceMain } from '@isams-sync/runtime';
import { createGatewayApp } from './app';
import { loadGatewayConfig } from './config';

await runServiceMain({
  service: 'gateway',
  config: loadGatewayConfig(),
  prettyLogsInDevelopment: true,
  createApp: (config, logger) => createGatewayApp(config, { logger }),
});
