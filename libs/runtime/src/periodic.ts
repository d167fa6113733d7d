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
  // A first run due no sooner than the interval's first tick is that tick (never two at once).
  const firstAfter = options.firstRunAfterMs;
  const first =
    firstAfter === undefined || firstAfter >= intervalMs ? undefined : setTimeout(tick, firstAfter);
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

/** How {@link startRetention} prunes. */
export interface RetentionOptions {
  /** What the task is called in its log lines ("audit retention"). */
  name: string;
  /** What is dropped, in the line logged when some was ("audit-log entries"). */
  what: string;
  /** Records older than this many days are dropped. */
  keepDays: number;
  /** How often (an hour in the services; tests use less). */
  intervalMs: number;
  logger: LoggerLike;
}

/**
 * A retention prune: `drop(cutoff)` of what is older than `keepDays`, a minute after the start (a
 * replica restarted more often than `intervalMs` prunes too; sooner when the interval is shorter)
 * and then every interval, one run at a time ({@link startPeriodic}). Every replica may run it: a
 * delete of what another replica deleted changes nothing. `drop` resolves to how many it dropped.
 */
export function startRetention(
  drop: (before: Date) => Promise<number>,
  options: RetentionOptions,
): PeriodicTask {
  const { name, what, keepDays, intervalMs, logger } = options;
  const keepMs = keepDays * 86_400_000;
  return startPeriodic(
    async () => {
      const dropped = await drop(new Date(Date.now() - keepMs));
      if (dropped > 0) logger.info({ dropped }, `${what} past their retention dropped`);
    },
    { name, intervalMs, firstRunAfterMs: Math.min(intervalMs, 60_000), logger },
  );
}
