import { runServiceMain } from '@isams-sync/runtime';
import { createBookingsApp } from './app';
import { loadBookingsConfig } from './config';

await runServiceMain({
  service: 'bookings',
  config: loadBookingsConfig(),
  createApp: (config, logger) => createBookingsApp(config, { logger }),
  extraShutdownMs: 2_000,
});
