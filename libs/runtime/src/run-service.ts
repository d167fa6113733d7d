import type { LoggerLike } from '@isams-sync/logger';

/** What {@link runService} needs from a service's `main.ts`. */
export interface RunServiceOptions {
  readonly logger: LoggerLike;
  /** Starts servers, consumers and background loops; rejects if the service cannot start. */
  start(): Promise<void>;
  /** Graceful stop (servers, then consumers, then producers, then the database). */
  stop(): Promise<void>;
  /** Hard deadline for `stop()`; the process exits with code 1 when it passes. */
  readonly shutdownTimeoutMs: number;
  /** Process hooks, replaceable in tests. */
  readonly process?: Pick<NodeJS.Process, 'on' | 'exit'>;
}

/**
 * The lifecycle every service's `main.ts` shares: signal handlers first, then start; on the first
 * SIGINT/SIGTERM — also while the start is still waiting for Kafka or MongoDB — stop gracefully
 * within a deadline and exit 0 (1 when stopping failed or timed out). A start that fails (a failure
 * no waiting fixes: the services retry unreachable dependencies themselves) is logged and exits 1.
 */
export async function runService(opts: RunServiceOptions): Promise<void> {
  const proc = opts.process ?? process;
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    opts.logger.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => {
      opts.logger.error({ shutdownTimeoutMs: opts.shutdownTimeoutMs }, 'shutdown deadline passed');
      proc.exit(1);
    }, opts.shutdownTimeoutMs);
    deadline.unref();
    opts.stop().then(
      () => proc.exit(0),
      (err: unknown) => {
        opts.logger.error({ err }, 'shutdown failed');
        proc.exit(1);
      },
    );
  };
  proc.on('SIGINT', () => stop('SIGINT'));
  proc.on('SIGTERM', () => stop('SIGTERM'));
  try {
    await opts.start();
  } catch (err) {
    // A start cut short by the stop ends with it (exit 0 once stopped).
    if (stopping) return;
    stopping = true;
    opts.logger.error({ err }, 'start-up failed');
    proc.exit(1);
  }
}
