/**
 * `@isams-sync/service-shell` — the wiring every service's composition root (`src/app.ts`) shared
 * as copies: its common environment, its database, broker and readiness, its gRPC and ops servers,
 * its consumer's options and lag gauge, and one stop sequence with one gRPC shutdown deadline.
 * @packageDocumentation
 */
export { backendServiceConfig, mongoServiceConfig } from './service-config';
export {
  connectServiceDatabase,
  serviceKafkaClient,
  serviceStartStep,
  startServiceInfra,
  startServiceOps,
} from './service-infra';
export type {
  ServiceDatabaseOptions,
  ServiceInfra,
  ServiceInfraConfig,
  ServiceInfraOptions,
  ServiceInfraParts,
  ServiceStartStepOptions,
} from './service-infra';
export { protosDirOption, serveServiceGrpc } from './service-grpc';
export type { GrpcServerSettings, ServiceGrpcOptions } from './service-grpc';
export {
  serviceConsumerOptions,
  shortSessionOverride,
  startConsumerLagSampler,
  startServiceConsumer,
} from './service-consumer';
export type {
  ServiceConsumerGroup,
  ServiceConsumerOptions,
  ServiceConsumerStartOptions,
} from './service-consumer';
export { GRPC_SHUTDOWN_MAX_MS, grpcShutdownDeadlineMs, stopService } from './service-stop';
export type { ServiceShellParts, ServiceStopSteps } from './service-stop';
export { openServiceHealth, serviceStarted } from './service-health';
export type { ServiceHealthOptions } from './service-health';
export {
  START_RETRY_BACKOFF,
  isRetryableAtStart,
  startGate,
  untilReachable,
  untilStepDone,
} from './service-start';
export type { StartGate, UntilReachableOptions } from './service-start';
export { serviceApp } from './service-app';
export { serviceBasics } from './service-basics';
export type { ServiceBasics } from './service-basics';
export type { BackendServiceApp, StartedParts } from './service-app';
