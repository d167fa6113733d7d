import type { LoggerLike } from '@isams-sync/logger';

/** One part of a service to stop: its name (for the log) and how to stop it. */
export type StopStep = readonly [part: string, stop: () => unknown];

/**
 * Stops a service's parts in the given order (servers, then consumers, then producers, then the
 * database). A part that fails to stop is logged with its name and the rest still stop — one stuck
 * consumer must not leave the database connection open. Never rejects.
 */
export async function stopInOrder(logger: LoggerLike, steps: readonly StopStep[]): Promise<void> {
  for (const [part, stop] of steps) {
    try {
      await stop();
    } catch (err) {
      logger.warn({ err, part }, 'a part failed to stop; stopping the rest');
    }
  }
}
