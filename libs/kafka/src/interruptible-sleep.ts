/** Back-off sleeps that `wakeAll()` ends at once, so stopping never waits one out. */
export class InterruptibleSleep {
  private readonly wakeups = new Set<() => void>();

  /** Resolves after `ms`, or earlier on {@link wakeAll}. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakeups.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeups.add(done);
    });
  }

  /** Ends every sleep in progress. */
  wakeAll(): void {
    for (const wake of [...this.wakeups]) wake();
  }
}
