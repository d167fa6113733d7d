import { inspect } from 'node:util';

/** Options of {@link eventually}. */
export interface EventuallyOptions {
  /** Bounds a hang (never a timing assertion); default 30 000 ms. */
  timeoutMs?: number;
  /** Pause between two checks; default 100 ms. */
  intervalMs?: number;
  /**
   * Stops polling when aborted (e.g. a fixture's signal, so that the body of a test vitest timed out
   * stops once its instances are stopped); rejects with the signal's reason.
   */
  signal?: AbortSignal;
  /** More to say when the deadline passes (e.g. the last state seen, a process's last log lines). */
  detail?: () => string;
}

/**
 * What {@link eventually} rejects with when its deadline passes: `what` it waited for and for how
 * long, so a caller can tell a wait that ran out from any other failure without reading the message.
 */
export class EventuallyTimedOut extends Error {
  override readonly name = 'EventuallyTimedOut';
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
    message: string,
  ) {
    super(message);
  }
}

/** A value {@link eventually} keeps waiting on. */
export type NotYet = undefined | null | false;

/**
 * Calls `check` until it returns something other than `undefined`, `null` or `false`, and returns
 * that. An error thrown by `check` ends the wait with that error. When `timeoutMs` passes first it
 * rejects ({@link EventuallyTimedOut}) naming `what` (and the last `null`/`false` seen) — the deadline only bounds a test that would
 * otherwise hang; no timing is asserted.
 *
 * @example
 * ```ts
 * const run = await eventually(async () => {
 *   const r = await store.getRun(id);
 *   return r?.state === 'done' ? r : undefined;
 * }, `run ${id} to finish`, { timeoutMs: 90_000 });
 * ```
 */
export async function eventually<T>(
  check: () => Promise<T | NotYet> | T | NotYet,
  what: string,
  options: EventuallyOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    options.signal?.throwIfAborted();
    const value = await check();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() >= deadline) {
      const seen = value === undefined ? '' : ` (last seen: ${inspect(value)})`;
      const detail = options.detail === undefined ? '' : `: ${options.detail()}`;
      throw new EventuallyTimedOut(
        what,
        timeoutMs,
        `timed out after ${timeoutMs} ms waiting for ${what}${seen}${detail}`,
      );
    }
    await new Promise((resolve) =>
      setTimeout(resolve, Math.min(intervalMs, Math.max(1, deadline - Date.now()))),
    );
  }
}

/** Options of {@link readUntil}: those of {@link eventually}, with a `detail` that is given the last value read. */
export type ReadUntilOptions<T> = Omit<EventuallyOptions, 'detail'> & {
  /** What a failure adds about the last value read (`undefined` before the first read); default: that value, inspected. */
  detail?: (last: T | undefined) => string;
};

/**
 * Reads with `read` until `done` holds for the value read, and returns that value: the polling loop
 * of {@link eventually} for a caller that checks a condition on what it reads. When the deadline
 * passes the failure names `what` and shows the last value read (through `options.detail`).
 */
export function readUntil<T>(
  what: string,
  read: () => Promise<T>,
  done: (value: T) => boolean,
  options: ReadUntilOptions<T> = {},
): Promise<T> {
  const { detail = (value: T | undefined) => inspect(value, { depth: 6 }), ...waiting } = options;
  let last: T | undefined;
  return eventually(
    async () => {
      last = await read();
      return done(last) ? last : undefined;
    },
    what,
    { ...waiting, detail: () => detail(last) },
  );
}
