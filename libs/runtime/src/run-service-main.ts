import { createLogger } from '@isams-sync/logger';
import type { CreateLoggerOptions, Logger } from '@isams-sync/logger';
import { startTelemetry } from '@isams-sync/telemetry';
import type { TelemetryServiceConfig } from '@isams-sync/telemetry';
import { runService } from './run-service';
import type { RunServiceOptions } from './run-service';

/** The part of a service's environment its `main.ts` reads (`commonServiceConfig` + telemetry). */
export type ServiceMainConfig = TelemetryServiceConfig & {
  readonly NODE_ENV: string;
  readonly LOG_LEVEL: CreateLoggerOptions['level'];
  readonly SERVICE_NAME?: string | undefined;
  readonly SHUTDOWN_TIMEOUT_MS: number;
};

/** Options of {@link runServiceMain}. */
export interface ServiceMainOptions<C extends ServiceMainConfig> {
  /** The service's own name: `service` of its logs and traces unless `SERVICE_NAME` is set. */
  readonly service: string;
  readonly config: C;
  /** Pretty, coloured logs when `NODE_ENV=development` (off: JSON lines). */
  readonly prettyLogsInDevelopment?: boolean;
  /** The service's composition root, made once tracing has started. */
  createApp(config: C, logger: Logger): Promise<ServiceApp> | ServiceApp;
  /** Added to `SHUTDOWN_TIMEOUT_MS` for the hard deadline of the stop (default 0). */
  readonly extraShutdownMs?: number;
  /** Process hooks, replaceable in tests. */
  readonly process?: RunServiceOptions['process'];
}

/** What {@link runServiceMain} starts and stops. */
export interface ServiceApp {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A service's `main.ts`: its logger and tracing from the environment, then its app run by
 * {@link runService}. Spans of the shutdown itself are exported too: tracing stops last.
 */
export async function runServiceMain<C extends ServiceMainConfig>(
  opts: ServiceMainOptions<C>,
): Promise<void> {
  const { config } = opts;
  const service = config.SERVICE_NAME ?? opts.service;
  const logger = createLogger({
    service,
    level: config.LOG_LEVEL,
    ...(opts.prettyLogsInDevelopment ? { pretty: config.NODE_ENV === 'development' } : {}),
  });
  const telemetry = await startTelemetry({ service, config, logger });
  const app = await opts.createApp(config, logger);
  await runService({
    logger,
    start: () => app.start(),
    stop: () => app.stop().finally(() => telemetry.shutdown()),
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS + (opts.extraShutdownMs ?? 0),
    ...(opts.process ? { process: opts.process } : {}),
  });
}
