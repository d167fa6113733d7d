import type { ServiceShellParts } from './service-stop';

/** What every back-end service's app is (connector, roster, bookings). */
export interface BackendServiceApp {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The bound gRPC port (the real one when `GRPC_PORT` is 0; 0 before `start`). */
  readonly grpcPort: number;
  /** The bound ops port (0 before `start`). */
  readonly opsPort: number;
}

/** The parts named in `K`, read from the running record; each throws `<service> not started` until it exists. */
export type StartedParts<P, K extends keyof P> = { readonly [Q in K]-?: NonNullable<P[Q]> };

/**
 * A back-end service's app object: its `members` (`start`, `stop` and any other member; getters stay
 * getters), the bound ports `grpcPort` and `opsPort` (0 before `start`), and a read-only view of each
 * part of the running record named in `started`, which throws `<service> not started` while the start
 * has not made it (tests read the use-cases and stores of a started app).
 */
export function serviceApp<
  P extends ServiceShellParts,
  M extends Pick<BackendServiceApp, 'start' | 'stop'>,
  K extends keyof P,
>(
  service: string,
  parts: P,
  members: M,
  started: readonly K[],
): NoInfer<M> & BackendServiceApp & StartedParts<P, K> {
  const startedPart = (key: K): NonNullable<P[K]> => {
    const part = parts[key];
    if (part === undefined || part === null) throw new Error(`${service} not started`);
    return part;
  };
  return Object.defineProperties(
    {},
    {
      ...Object.getOwnPropertyDescriptors(members),
      grpcPort: { enumerable: true, get: () => parts.grpc?.port ?? 0 },
      opsPort: { enumerable: true, get: () => parts.ops?.port ?? 0 },
      ...Object.fromEntries(started.map((key) => [key, { enumerable: true, get: () => startedPart(key) }])),
    },
  ) as M & BackendServiceApp & StartedParts<P, K>;
}
