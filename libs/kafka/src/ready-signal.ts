/** A promise settled from outside: `ready` of a consumer, resolved when it first joins its group. */
export interface ReadySignal {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}

/** A {@link ReadySignal} whose rejection is never unhandled, even when the caller never awaits it. */
export function readySignal(): ReadySignal {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}
