/**
 * Wakes the live views of runs (WatchSyncRun) when this replica writes a run: the run it executes,
 * a roster report it took. A run another replica writes is still seen by the view's poll.
 *
 * Only waiting readers are remembered (each a timer and a listener, dropped when it wakes): one per
 * watched run, shared by the run's streams (`RunWatches`, which caps each school's streams).
 */
export class RunChanges {
  private readonly waiting = new Map<string, Set<() => void>>();

  /** The run's record was written here. */
  changed(syncRunId: string): void {
    const wakers = this.waiting.get(syncRunId);
    if (wakers === undefined) return;
    this.waiting.delete(syncRunId);
    for (const wake of wakers) wake();
  }

  /**
   * Resolves at the run's next write here, after `ms` at the latest, or as soon as `signal` aborts.
   * Ask before reading the run: a write while it is read and sent still wakes the view.
   */
  next(syncRunId: string, ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      let wakers = this.waiting.get(syncRunId);
      if (wakers === undefined) this.waiting.set(syncRunId, (wakers = new Set()));
      const wake = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', wake);
        const set = this.waiting.get(syncRunId);
        set?.delete(wake);
        if (set?.size === 0) this.waiting.delete(syncRunId);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      signal.addEventListener('abort', wake, { once: true });
      wakers.add(wake);
    });
  }

  /** Views waiting now (for tests). */
  get waitingCount(): number {
    let n = 0;
    for (const set of this.waiting.values()) n += set.size;
    return n;
  }
}
