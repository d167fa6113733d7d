/** A promise that never settles: what a dead process's next I/O "returns". */
const NEVER = new Promise<never>(() => undefined);

/**
 * One life of a connector process, seen through its I/O: every call the in-memory ports make is a
 * numbered step (before and after the write lands). With `crashAt`, the process dies at that step —
 * the call and everything after it never return, like a `kill -9` — and `died` resolves. A crashed
 * step "before" did not take effect; one "after" did, but its caller never learnt it.
 */
export class ProcessLife {
  readonly steps: string[] = [];
  private deadFlag = false;
  private markDied!: () => void;
  readonly died = new Promise<void>((resolve) => (this.markDied = resolve));

  constructor(private readonly crashAt?: number) {}

  get dead(): boolean {
    return this.deadFlag;
  }

  /** Performs one I/O call as steps `name` and `name ✓` (before and after it took effect). */
  async io<T>(name: string, call: () => T | Promise<T>): Promise<T> {
    await this.step(name);
    const result = await call();
    await this.step(`${name} ✓`);
    return result;
  }

  /** One step: hangs once the process died, or dies here when this is the planned crash. */
  step(name: string): Promise<void> {
    if (this.deadFlag) return NEVER;
    this.steps.push(name);
    if (this.steps.length === this.crashAt) {
      this.deadFlag = true;
      this.markDied();
      return NEVER;
    }
    return Promise.resolve();
  }

  /** `work`, or nothing once the process died (whatever it was doing then never finishes). */
  async untilDeath(work: Promise<unknown>): Promise<void> {
    await Promise.race([work.then(() => undefined), this.died]);
  }
}
