import type { CommonServiceConfig } from '@isams-sync/config';
import type { GrpcServerHandle } from '@isams-sync/grpc';
import type { LoggerLike } from '@isams-sync/logger';
import type { OpsServer, Sampler } from '@isams-sync/metrics';
import { stopInOrder } from '@isams-sync/runtime';
import type { StopStep } from '@isams-sync/runtime';
import type { ServiceInfraParts } from './service-infra';

/** Most of the shutdown deadline the gRPC server gets to let its calls in flight finish. */
export const GRPC_SHUTDOWN_MAX_MS = 2_000;

/**
 * The one rule of a gRPC server's shutdown deadline: 2 s, and never more than half of
 * `SHUTDOWN_TIMEOUT_MS`. The calls in flight are short unary calls (a server stream — the
 * connector's WatchSyncRun — ends on the server's `stopping`, raised before this wait), and the
 * rest of the deadline belongs to the stateful drains after it — the consumer, the work under way
 * (the roster's changesets, the connector's runs). With the default 10 s that is 2 s (as bookings
 * and the connector had; the roster had half, 5 s); with a deadline under 4 s, half (as the roster
 * had; bookings and the connector had all of it up to 2 s, leaving the drains nothing).
 */
export function grpcShutdownDeadlineMs(shutdownTimeoutMs: number): number {
  return Math.min(GRPC_SHUTDOWN_MAX_MS, shutdownTimeoutMs / 2);
}

/** The shell's parts a service's `stop()` closes, with {@link ServiceInfraParts}. */
export interface ServiceShellParts extends ServiceInfraParts {
  grpc?: GrpcServerHandle;
  sampler?: Sampler;
  ops?: OpsServer;
}

/** The service's own steps of {@link stopService}, in the order each list is given. */
export interface ServiceStopSteps {
  /** Listeners beside the gRPC server (the gateway's HTTP servers), closed right after it. */
  servers?: readonly StopStep[];
  /** The service's work, drained after the servers: its consumer, periodic work under way, background work. */
  drain?: readonly StopStep[];
  /** Its clients of other services, closed after the producer. */
  clients?: readonly StopStep[];
}

/**
 * One stop sequence for every service. A start still waiting for a dependency told to give up
 * (`parts.abortStart`), readiness off and the sampler told to stop (not awaited: a
 * sample waiting on an unreachable broker must not hold the shutdown up); then, by `stopInOrder`
 * (a part that fails is logged and the rest still stop): the gRPC server (with
 * {@link grpcShutdownDeadlineMs}), the other `servers`, the `drain` steps, the producer, the
 * `clients`, the ops server, the database. A periodic task is told to stop by the caller before this
 * (no new runs), and the run under way awaited among `drain`. Never rejects.
 */
export async function stopService(
  logger: LoggerLike,
  config: Pick<CommonServiceConfig, 'SHUTDOWN_TIMEOUT_MS'>,
  parts: ServiceShellParts,
  steps: ServiceStopSteps,
): Promise<void> {
  parts.abortStart?.abort(new Error('stopping'));
  parts.readiness?.stop();
  void parts.sampler?.stop();
  await stopInOrder(logger, [
    ['grpc', () => parts.grpc?.shutdown(grpcShutdownDeadlineMs(config.SHUTDOWN_TIMEOUT_MS))],
    ...(steps.servers ?? []),
    ...(steps.drain ?? []),
    ['producer', () => parts.producer?.disconnect()],
    ...(steps.clients ?? []),
    ['ops server', () => parts.ops?.close()],
    ['mongo', () => parts.mongo?.close()],
  ]);
}
