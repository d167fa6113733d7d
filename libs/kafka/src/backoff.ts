/** Retry backoff of a consumer handler. */
export interface BackoffOptions {
  /** Delay before the 2nd attempt (default 200 ms). */
  initialMs?: number;
  /** Growth per attempt (default 2). */
  factor?: number;
  /** Upper bound of one delay (default 30000 ms). */
  maxMs?: number;
  /** Random spread ±fraction of the delay (default 0.2) so replicas don't retry in lockstep. */
  jitter?: number;
}

/** Delay in ms after failed attempt number `attempt` (1-based). `random` is injectable for tests. */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const { initialMs = 200, factor = 2, maxMs = 30_000, jitter = 0.2 } = options;
  const base = Math.min(maxMs, initialMs * factor ** Math.max(0, attempt - 1));
  const spread = base * jitter * (random() * 2 - 1);
  return Math.max(0, Math.round(Math.min(maxMs, base + spread)));
}
