/**
 * The roster's reads that load a whole set at once — a school's entities of a type for a list page,
 * a run's changes, a held batch's items, a dry run's plan — bounded so that callers cannot pile
 * them up (an outside audit: forty concurrent lists of one school's 6,000 contacts took the roster
 * from 626 MB past its 1 GiB limit, and the loads went on long after every caller had given up):
 *
 * - **Shared.** Callers asking for the same load (the same `key`) while it waits for its turn share
 *   it: one read, whatever the number of callers. A load already running is not joined — it began
 *   before the caller asked, and could miss a write the caller made just before (an approval, then
 *   the list): the caller queues the next one, which later callers join.
 * - **Bounded.** At most `perTenant` loads of one school and `total` of all schools run at once; the
 *   others wait in arrival order (a school's waiting loads are distinct keys, so few).
 * - **Abandoned work is dropped.** A caller that gives up (its `signal`: a cancel, the deadline)
 *   stops waiting at once; a load no caller waits for any more is taken out of the queue before it
 *   starts, and one already running is told by its own signal: a load of several reads (a run's
 *   change or finding chunks) stops at its next read, a load of one read or a dry run's plan
 *   finishes it — and keeps its place in the limits until then, which is what bounds the memory.
 */
export interface SharedLoadsOptions {
  /** Loads of one school running at once (default 2). */
  perTenant?: number;
  /** Loads of all schools running at once (default 4). */
  total?: number;
}

interface Load {
  readonly tenantId: string;
  readonly key: string;
  readonly run: (signal: AbortSignal) => Promise<unknown>;
  readonly abort: AbortController;
  readonly result: Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
  waiters: number;
  started: boolean;
}

export class SharedLoads {
  private readonly perTenant: number;
  private readonly total: number;
  /** Loads not started yet, by key (joined by later callers), in arrival order. */
  private readonly waiting = new Map<string, Load>();
  private readonly runningByTenant = new Map<string, number>();
  private running = 0;

  constructor(options: SharedLoadsOptions = {}) {
    this.perTenant = Math.max(1, options.perTenant ?? 2);
    this.total = Math.max(1, options.total ?? 4);
  }

  /**
   * The result of `run` for `key` (a school's own key space: `tenantId` is part of it), shared with
   * the callers that asked for the same key before it started. Rejects with `signal`'s reason as soon
   * as it aborts; `run` gets a signal that aborts once no caller waits for it.
   */
  async get<T>(
    tenantId: string,
    key: string,
    signal: AbortSignal | undefined,
    run: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    signal?.throwIfAborted();
    const id = `${tenantId}\u0000${key}`;
    let load = this.waiting.get(id);
    if (load === undefined) {
      load = this.newLoad(tenantId, id, run as (signal: AbortSignal) => Promise<unknown>);
      this.waiting.set(id, load);
      this.startWaiting();
    }
    load.waiters += 1;
    try {
      return (await (signal === undefined ? load.result : untilAborted(load.result, signal))) as T;
    } finally {
      load.waiters -= 1;
      if (load.waiters === 0) this.drop(load);
    }
  }

  /** Loads running now (for tests and metrics). */
  get runningCount(): number {
    return this.running;
  }

  private newLoad(tenantId: string, key: string, run: Load['run']): Load {
    let resolve!: (value: unknown) => void;
    let reject!: (reason: unknown) => void;
    const result = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    result.catch(() => undefined); // a load whose callers all left rejects unobserved
    return {
      tenantId,
      key,
      run,
      abort: new AbortController(),
      result,
      resolve,
      reject,
      waiters: 0,
      started: false,
    };
  }

  /** No caller waits for `load` any more: out of the queue if it has not started, told if it has. */
  private drop(load: Load): void {
    load.abort.abort(new Error('no caller waits for this load any more'));
    if (load.started) return;
    if (this.waiting.get(load.key) === load) this.waiting.delete(load.key);
    load.reject(load.abort.signal.reason);
  }

  /** Starts waiting loads, in arrival order, while their school and the process have room. */
  private startWaiting(): void {
    for (const load of this.waiting.values()) {
      if (this.running >= this.total) return;
      if ((this.runningByTenant.get(load.tenantId) ?? 0) >= this.perTenant) continue;
      this.waiting.delete(load.key);
      this.start(load);
    }
  }

  private start(load: Load): void {
    load.started = true;
    this.running += 1;
    this.runningByTenant.set(load.tenantId, (this.runningByTenant.get(load.tenantId) ?? 0) + 1);
    void (async () => {
      try {
        load.resolve(await load.run(load.abort.signal));
      } catch (err) {
        load.reject(err);
      } finally {
        this.running -= 1;
        const n = (this.runningByTenant.get(load.tenantId) ?? 1) - 1;
        if (n === 0) this.runningByTenant.delete(load.tenantId);
        else this.runningByTenant.set(load.tenantId, n);
        this.startWaiting();
      }
    })();
  }
}

/** `promise`, or a rejection with `signal`'s reason as soon as it aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err as Error);
      },
    );
  });
}
