import type { LoggerLike } from '@isams-sync/logger';

/** How {@link startPeriodic} runs a task. */
export interface PeriodicOptions {
  /** What the task is called in its log lines ("sweep", "end-of-evening sweep"). */
  name: string;
  intervalMs: number;
  logger: LoggerLike;
  /**
   * A run still going after this long is logged once as stuck, with {@link progress}: later runs
   * wait for it, so without this line a hung run would silence the task with nothing in the log.
   * Default: ten intervals, at least two minutes.
   */
  stuckAfterMs?: number;
  /** Where the run under way is (e.g. the step a sweep is at), for the stuck warning. */
  progress?: () => unknown;
  /**
   * The first run this long after the start instead of a whole interval after it (a task that must
   * not wait for a replica to live an interval, e.g. an hourly retention prune on replicas that are
   * restarted more often than hourly).
   */
  firstRunAfterMs?: number;
}

/** A task started by {@link startPeriodic}. */
export interface PeriodicTask {
  /** Starts no more runs; resolves when the run under way (if any) has ended. Never rejects. */
  stop(): Promise<void>;
  /** Resolves when no run is under way (the one under way, if any, has ended). Never rejects. */
  settled(): Promise<void>;
}

/**
 * Runs `task` every `intervalMs`, one run at a time: on a slow database a run can outlast the
 * interval, and piled-up runs would only compete with each other for the same database, so a tick
 * that finds a run under way starts nothing. A failed run is logged and the next interval tries
 * again; a run under way for longer than `stuckAfterMs` is logged once, naming its progress.
 */
export function startPeriodic(task: () => Promise<unknown>, options: PeriodicOptions): PeriodicTask {
  const { name, intervalMs, logger } = options;
  const stuckAfterMs = options.stuckAfterMs ?? Math.max(10 * intervalMs, 120_000);
  let running: Promise<void> | undefined;
  let startedAt = 0;
  let warned = false;
  const tick = (): void => {
    if (running) {
      const runningMs = Date.now() - startedAt;
      if (!warned && runningMs >= stuckAfterMs) {
        warned = true;
        logger.warn(
          { task: name, runningMs, progress: options.progress?.() },
          `${name} still running; later runs wait for it`,
        );
      }
      return;
    }
    startedAt = Date.now();
    warned = false;
    running = Promise.resolve()
      .then(task)
      .then(
        () => undefined,
        (err: unknown) =>
          logger.warn({ err, task: name }, `${name} failed; tried again at the next interval`),
      )
      .finally(() => (running = undefined));
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  const first = options.firstRunAfterMs === undefined ? undefined : setTimeout(tick, options.firstRunAfterMs);
  first?.unref();
  const settled = async (): Promise<void> => {
    await running;
  };
  return {
    stop: () => {
      clearInterval(timer);
      clearTimeout(first);
      return settled();
    },
    settled,
  };
}
