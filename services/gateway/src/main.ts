import { createGatewayApp } from './app';
import { loadGatewayConfig } from './config';

const config = loadGatewayConfig();
const app = await createGatewayApp(config);
await app.start();

let stopping = false;
const shutdown = (signal: string) => {
  if (stopping) return;
  stopping = true;
  const deadline = setTimeout(() => process.exit(1), config.SHUTDOWN_TIMEOUT_MS);
  deadline.unref();
  app.http.log.info({ signal }, 'shutting down');
  void app.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', () => shutdown('SIGTERM'));
process.once('SIGINT', () => shutdown('SIGINT'));
