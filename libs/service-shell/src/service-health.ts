import type { CommonServiceConfig } from '@isams-sync/config';
import { createGrpcServer } from '@isams-sync/grpc';
import type { ServiceKeyring } from '@isams-sync/grpc';
import { kafkaReadinessCheck } from '@isams-sync/kafka';
import type { KafkaServiceConfig } from '@isams-sync/kafka';
import type { Logger } from '@isams-sync/logger';
import { readinessFromConfig } from '@isams-sync/metrics';
import type { DependencyCheck, Metrics } from '@isams-sync/metrics';
import { mongoReadinessCheck } from '@isams-sync/mongo';
import type { GrpcServerSettings } from './service-grpc';
import { serviceKafkaClient, startServiceOps } from './service-infra';
import { startGate } from './service-start';
import type { StartGate } from './service-start';
import type { ServiceShellParts } from './service-stop';

/** Options of {@link openServiceHealth}. */
export interface ServiceHealthOptions {
  /** The service's name (its Kafka client id unless `KAFKA_CLIENT_ID` is set). */
  service: string;
  logger: Logger;
  metrics: Metrics;
  /** Where readiness, the ops server, the gRPC server and the Kafka client are recorded. */
  parts: ServiceShellParts;
  /** Kafka is a dependency (connector, roster, bookings; not the gateway): its client is made and probed. */
  kafka?: { config: KafkaServiceConfig };
  /** The service serves gRPC: the server listens at once, its service added later (`serveServiceGrpc`). */
  grpc?: { config: GrpcServerSettings; identity: ServiceKeyring };
}

/**
 * The first thing a service's start does, before it needs any dependency: readiness over MongoDB
 * (the connection once it exists) and Kafka — probing once a dependency step fails
 * (`untilReachable`) or once both answer (`startServiceInfra`), and held not ready until
 * {@link serviceStarted} — the ops server (`/health` live, `/ready` 503); and the gRPC server with
 * only its health service (`liveness` SERVING, `''` NOT_SERVING). A pod started during an outage so
 * stays up, live and not ready, while its start waits for the dependencies (`untilReachable`).
 */
export async function openServiceHealth(
  config: Pick<CommonServiceConfig, 'OPS_PORT' | 'READINESS_INTERVAL_MS' | 'READINESS_TIMEOUT_MS'>,
  opts: ServiceHealthOptions,
): Promise<StartGate> {
  const { parts, logger, metrics } = opts;
  parts.abortStart ??= new AbortController();
  const checks: DependencyCheck[] = [
    mongoReadinessCheck({ ping: () => parts.mongo?.ping() ?? Promise.resolve(false) }),
  ];
  if (opts.kafka !== undefined) {
    const kafka = (parts.kafka = serviceKafkaClient(opts.kafka.config, opts.service, logger));
    checks.push(kafkaReadinessCheck(kafka));
  }
  const readiness = (parts.readiness = startGate(readinessFromConfig(config, { checks, logger, metrics })));
  parts.ops = await startServiceOps(config, { metrics, logger, readiness });
  if (opts.grpc !== undefined) {
    const { config: grpc, identity } = opts.grpc;
    parts.grpc = await createGrpcServer({
      logger,
      port: grpc.GRPC_PORT,
      identity,
      reflection: grpc.GRPC_REFLECTION,
      readiness,
      services: [],
    });
  }
  return readiness;
}

/** The start has finished (servers, consumers, schedulers up): ready from now on while the dependencies answer. */
export function serviceStarted(parts: Pick<ServiceShellParts, 'readiness'>): void {
  parts.readiness?.open();
}
