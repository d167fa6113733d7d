import { runServiceMain } from '@isams-sync/runtime';
import { createRosterApp } from './app';
import { loadRosterConfig } from './config';

await runServiceMain({
  service: 'roster',
  config: loadRosterConfig(),
  createApp: (config, logger) => createRosterApp(config, { logger }),
  extraShutdownMs: 2_000,
});
