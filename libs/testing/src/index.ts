/**
 * Test helpers for integration tests against the real Kafka broker and MongoDB-wire database.
 * The vitest global setup lives in `./global-setup.ts` (wired in the root vitest.config.ts).
 */
export {
  AdminApiClient,
  AdminApiError,
  type AdminApiClientOptions,
  type AdminSettingsInput,
  type AdminSyncRun,
  type WaitForRunOptions,
} from './admin-api-client';
export {
  eventually,
  EventuallyTimedOut,
  readUntil,
  type EventuallyOptions,
  type NotYet,
  type ReadUntilOptions,
} from './eventually';
export { getTestInfra, uniqueName, type TestInfra } from './infra';
export { expireLease, type ExpireLeaseOptions } from './leases';
export {
  createTestDatabase,
  createTestTopics,
  deleteRunTopics,
  deleteTestTopics,
  type TestDatabase,
} from './resources';
export {
  freePort,
  startServiceProcess,
  type ServiceProcess,
  type ServiceProcessOptions,
  type ReadinessProbe,
} from './processes';
export {
  startSimulator,
  type SimulatorProcess,
  type SimulatedServerOptions,
  type SimulatedRequestStats,
} from './simulator';
export {
  dashboardSignInUrl,
  startSystem,
  type RunningSystem,
  type StartSystemOptions,
  type SystemStopOptions,
} from './system';
export { PrivateInfra } from './private-infra';
export { rosterTopicEnv, type RosterTopics } from './roster-env';
export { testClientIdentity, testServiceIdentityDir } from './service-identity';
export { startRosterStandIn, type RosterStandInOptions } from './roster-stand-in';
export { expectEveryMethodUnauthenticated, grpcHealthStatus, probeEveryMethod } from './grpc-probe';
export { startSmtpServer, type TestSmtpServer, type ReceivedMail } from './smtp-server';
export {
  capturedLogger,
  dependencyGates,
  expectExitsOnSigterm,
  expectLiveNotReady,
  expectReadyAfterOutage,
  expectStepOutagesWaitedOut,
  failedStartAttempts,
  gatesLosingAt,
  httpStatus,
  mongoCommandBytes,
  mongoUrlThrough,
  spawnWatchedService,
  startTcpGate,
  watchStart,
  type DependencyGates,
  type TcpGate,
  type WatchedService,
  type WatchedStart,
} from './outage';
