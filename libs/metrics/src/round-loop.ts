/** A loop of rounds started by {@link roundLoop}. */
export interface RoundLoop {
  /** Schedules the next round `intervalMs` from now; does nothing once stopped. */
  next(): void;
  /** Schedules no more rounds and cancels the one waiting (a round under way runs to its end). */
  stop(): void;
  /** Whether {@link RoundLoop.stop} was called. */
  readonly stopped: boolean;
}

/**
 * Rounds one after another, each `intervalMs` after the previous one ended, so two never overlap
 * however long a dependency takes to answer (the readiness probes and the metric sampler). The
 * timer does not keep the process alive. The first round is the caller's: call `next()` once it is
 * under way or done.
 */
export function roundLoop(round: () => Promise<void>, intervalMs: number): RoundLoop {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const next = (): void => {
    if (stopped) return;
    timer = setTimeout(() => void round().finally(next), intervalMs);
    timer.unref();
  };
  return {
    next,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
    get stopped() {
      return stopped;
    },
  };
}
