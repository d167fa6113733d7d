import { fileURLToPath } from 'node:url';
import { serviceKeyringFromConfig } from '@isams-sync/grpc';
import { createLogger } from '@isams-sync/logger';
import type { Logger } from '@isams-sync/logger';
import { createMetrics } from '@isams-sync/metrics';
import type { Metrics, OpsServer } from '@isams-sync/metrics';
import { ensureIndexes, mongoOptionsFromConfig, openMongo, verifyMongo } from '@isams-sync/mongo';
import { startRetention } from '@isams-sync/runtime';
import type { PeriodicTask } from '@isams-sync/runtime';
import type { MongoConnection } from '@isams-sync/mongo';
import {
  openServiceHealth,
  protosDirOption,
  serviceStarted,
  stopService,
  untilReachable,
} from '@isams-sync/service-shell';
import type { StartGate } from '@isams-sync/service-shell';
import type { FastifyInstance } from 'fastify';
import type { GatewayConfig } from './config';
import { createJwtVerifier } from './adapters/auth/jwt-verifier';
import type { JwtVerifier } from './adapters/auth/jwt-verifier';
import { createConnectorGateway } from './adapters/grpc-clients/connector.gateway';
import type { ConnectorGateway } from './use-cases/ports';
import { createBookingsGateway } from './adapters/grpc-clients/bookings.gateway';
import type { BookingsGateway } from './use-cases/ports';
import { createRosterGateway } from './adapters/grpc-clients/roster.gateway';
import type { RosterGateway } from './use-cases/ports';
import { createMongoAdminTokenRepository } from './adapters/mongo/admin-token.repository';
import { createMongoAuditLog } from './adapters/mongo/audit-log.repository';
import type { AuditLog } from './adapters/mongo/audit-log.repository';
import { GATEWAY_INDEXES } from './adapters/mongo/collections';
import { buildHttpServer, buildOperatorServer } from './handlers/http/http-server';
import type { ServerLimits } from './handlers/http/http-server';
import { createStreamRegistry } from './domain/stream-registry';
import { createAdminTokens } from './use-cases/admin-tokens';
import type { AdminTokens } from './use-cases/admin-tokens';

/** Test seams: upstream gateways and the logger. */
export interface GatewayAppOverrides {
  logger?: Logger;
  connector?: ConnectorGateway;
  roster?: RosterGateway;
  bookings?: BookingsGateway;
  /** How often the audit log's retention prunes (default hourly; tests: sooner). */
  retentionIntervalMs?: number;
}

/** A built gateway; `start()` listens, `stop()` shuts down in order. */
export interface GatewayApp {
  readonly http: FastifyInstance;
  /** The operator listener (token administration); absent without `GATEWAY_OPERATOR_TOKEN`. */
  readonly operatorHttp: FastifyInstance | undefined;
  /** The bound HTTP port (after `start()`). */
  readonly httpPort: number;
  /** The bound operator port (after `start()`; 0 when there is no operator listener). */
  readonly operatorPort: number;
  readonly opsPort: number;
  readonly mongo: MongoConnection;
  /** Listens, then waits for the database (not ready meanwhile); a second call returns the first one's promise. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The dashboard's static files (HTML, ES modules, CSS), served by the gateway itself. */
export const DEFAULT_WEB_DIR = fileURLToPath(new URL('./web/', import.meta.url));

/** What every wiring step of one gateway shares (made once, when the app is created). */
interface Wiring {
  readonly config: GatewayConfig;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/** Who may call: admin tokens, the audit log and (when keys are configured) the JWT verifier. */
interface Access {
  readonly adminTokens: AdminTokens;
  readonly auditLog: AuditLog;
  readonly jwtVerifier: JwtVerifier | undefined;
}

/** The back-end services the gateway calls. */
interface Upstreams {
  readonly connector: ConnectorGateway;
  readonly roster: RosterGateway;
  readonly bookings: BookingsGateway;
}

/** The parts every created gateway has. */
interface Built {
  readonly mongo: MongoConnection;
  readonly http: FastifyInstance;
  readonly operatorHttp: FastifyInstance | undefined;
  readonly auditLog: AuditLog;
  readonly retentionIntervalMs: number;
}

/**
 * What the gateway has brought up so far, filled as the parts come up (the database handle, the
 * upstream clients and the servers when it is created; readiness, the ops server and the bound ports
 * when it starts): `stopGateway` closes exactly that, also after a creation or a start that failed
 * half-way.
 */
interface Running {
  mongo?: MongoConnection;
  upstreams?: Upstreams;
  http?: FastifyInstance;
  operatorHttp?: FastifyInstance | undefined;
  readiness?: StartGate;
  /** Aborted by the stop: a start still waiting for the database gives up at once. */
  abortStart?: AbortController;
  /** The one start (a second `start()` returns it: test harnesses start the app, and tests again). */
  starting?: Promise<void>;
  httpPort: number;
  operatorPort: number;
  ops?: OpsServer;
  /** The audit log's hourly retention prune (started with the listeners). */
  retention?: PeriodicTask;
  stopping?: Promise<void>;
}

/**
 * Composition root: the database handle (not connected yet: `start` waits for the database), the
 * adapters, the upstream gateways and the HTTP servers.
 */
export async function createGatewayApp(
  config: GatewayConfig,
  overrides: GatewayAppOverrides = {},
): Promise<GatewayApp> {
  const logger =
    overrides.logger ??
    createLogger({
      service: config.SERVICE_NAME ?? 'gateway',
      level: config.LOG_LEVEL,
      pretty: config.NODE_ENV === 'development',
    });
  const w: Wiring = { config, logger, metrics: createMetrics({ service: 'gateway' }) };
  const running: Running = { httpPort: 0, operatorPort: 0 };
  const built = await buildGateway(w, overrides, running).catch(async (err: unknown) => {
    // No app is returned that could be stopped: what was opened is closed here.
    await stopGateway(w, running);
    throw err;
  });
  return {
    http: built.http,
    operatorHttp: built.operatorHttp,
    mongo: built.mongo,
    get httpPort() {
      return running.httpPort;
    },
    get operatorPort() {
      return running.operatorPort;
    },
    get opsPort() {
      return running.ops?.port ?? 0;
    },
    start() {
      running.starting ??= startGateway(w, built, running);
      return running.starting;
    },
    stop() {
      running.stopping ??= stopGateway(w, running);
      return running.stopping;
    },
  };
}

/** The database handle, who may call, the upstream clients, the servers (none listening, nothing connected yet). */
async function buildGateway(w: Wiring, overrides: GatewayAppOverrides, r: Running): Promise<Built> {
  const mongo = (r.mongo = openMongo(
    mongoOptionsFromConfig(w.config, { appName: 'gateway', logger: w.logger }),
  ));
  const access = createAccess(w.config, mongo);
  const upstreams = (r.upstreams = createUpstreams(w.config, overrides));
  const { http, operatorHttp } = await buildServers(w, access, upstreams);
  r.http = http;
  r.operatorHttp = operatorHttp;
  return {
    mongo,
    http,
    operatorHttp,
    auditLog: access.auditLog,
    retentionIntervalMs: overrides.retentionIntervalMs ?? 3_600_000,
  };
}

// ---- start and stop -----------------------------------------------------------------------------

/**
 * Readiness and the ops server first (live, not ready), the public listener, the operator listener
 * (when configured), then the database — awaited while unreachable, its indexes ensured — and the
 * audit retention; ready last. Readiness is MongoDB only: the gateway has no Kafka connection, and
 * the back-end services are not readiness dependencies (their outage shows as 503s of the calls
 * that need them, not as a gateway outage).
 */
async function startGateway(w: Wiring, b: Built, r: Running): Promise<void> {
  const { config, logger } = w;
  await openServiceHealth(config, { ...w, service: 'gateway', parts: r });
  await b.http.listen({ host: config.HTTP_HOST, port: config.HTTP_PORT });
  r.httpPort = boundPort(b.http, config.HTTP_PORT);
  if (b.operatorHttp !== undefined) {
    await b.operatorHttp.listen({ host: config.GATEWAY_OPERATOR_HOST, port: config.GATEWAY_OPERATOR_PORT });
    r.operatorPort = boundPort(b.operatorHttp, config.GATEWAY_OPERATOR_PORT);
  }
  await untilReachable(
    'mongo',
    async () => {
      await verifyMongo(b.mongo);
      await ensureIndexes(b.mongo.db, GATEWAY_INDEXES);
    },
    { logger, signal: r.abortStart?.signal, readiness: r.readiness },
  );
  await r.readiness!.start();
  // Audit-log entries older than AUDIT_RETENTION_DAYS, on every replica (docs/security.md › Retention).
  r.retention = startRetention((before) => b.auditLog.dropOlderThan(before), {
    name: 'audit retention',
    what: 'audit-log entries',
    keepDays: w.config.AUDIT_RETENTION_DAYS,
    intervalMs: b.retentionIntervalMs,
    logger: w.logger,
  });
  serviceStarted(r);
  logger.info(
    { httpPort: r.httpPort, operatorPort: r.operatorPort, opsPort: r.ops!.port },
    'gateway listening',
  );
}

/**
 * Readiness off; the listeners, the upstream clients, the ops server, then the database
 * (libs/service-shell `stopService`; the gateway has no gRPC server, consumer or producer).
 */
async function stopGateway(w: Wiring, r: Running): Promise<void> {
  await stopService(w.logger, w.config, r, {
    servers: [
      ['http', () => r.http?.close()],
      ['operator http', () => r.operatorHttp?.close()],
    ],
    drain: [['audit retention', () => r.retention?.stop()]],
    clients: [
      ['connector client', () => r.upstreams?.connector.close()],
      ['roster client', () => r.upstreams?.roster.close()],
      ['bookings client', () => r.upstreams?.bookings.close()],
    ],
  });
}

/** The port a listening server is bound to (`fallback` when it has no address). */
function boundPort(server: FastifyInstance, fallback: number): number {
  const address = server.server.address();
  return typeof address === 'object' && address !== null ? address.port : fallback;
}

// ---- adapters -----------------------------------------------------------------------------------

function createAccess(config: GatewayConfig, mongo: MongoConnection): Access {
  const maxAgeMs = config.GATEWAY_ADMIN_TOKEN_MAX_AGE;
  const adminTokens = createAdminTokens(createMongoAdminTokenRepository(mongo.db, maxAgeMs), {
    pepper: config.GATEWAY_TOKEN_PEPPER,
    maxAgeMs,
  });
  const auditLog = createMongoAuditLog(mongo.db);
  // The config schema requires issuer and audience whenever keys are set.
  const jwtVerifier =
    config.GATEWAY_JWT_PUBLIC_KEYS === undefined
      ? undefined
      : createJwtVerifier({
          jwks: config.GATEWAY_JWT_PUBLIC_KEYS,
          issuer: config.GATEWAY_JWT_ISSUER ?? '',
          audience: config.GATEWAY_JWT_AUDIENCE ?? '',
          maxAgeMs: config.GATEWAY_JWT_MAX_AGE,
          pseudonymKey: config.GATEWAY_TOKEN_PEPPER,
        });
  return { adminTokens, auditLog, jwtVerifier };
}

/** The gRPC clients of the connector, roster and bookings (or the test's stand-ins). */
function createUpstreams(config: GatewayConfig, overrides: GatewayAppOverrides): Upstreams {
  const identity = serviceKeyringFromConfig(config, 'gateway');
  const protos = protosDirOption(config);
  const connector =
    overrides.connector ??
    createConnectorGateway({
      address: config.CONNECTOR_GRPC_ADDRESS,
      deadlineMs: config.GATEWAY_UPSTREAM_TIMEOUT_MS,
      testConnectionDeadlineMs: config.GATEWAY_TEST_CONNECTION_TIMEOUT_MS,
      identity,
      ...protos,
    });
  const roster =
    overrides.roster ??
    createRosterGateway({
      address: config.ROSTER_GRPC_ADDRESS,
      deadlineMs: config.GATEWAY_UPSTREAM_TIMEOUT_MS,
      identity,
      ...protos,
    });
  const bookings =
    overrides.bookings ??
    createBookingsGateway({
      address: config.BOOKINGS_GRPC_ADDRESS,
      deadlineMs: config.GATEWAY_UPSTREAM_TIMEOUT_MS,
      identity,
      ...protos,
    });
  return { connector, roster, bookings };
}

// ---- servers ------------------------------------------------------------------------------------

function serverLimits(w: Wiring): ServerLimits {
  const { config } = w;
  return {
    bodyLimitBytes: config.GATEWAY_BODY_LIMIT_BYTES,
    trustProxy: config.GATEWAY_TRUST_PROXY,
    headersTimeoutMs: config.GATEWAY_HEADERS_TIMEOUT_MS,
    requestTimeoutMs: config.GATEWAY_REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: config.GATEWAY_KEEP_ALIVE_TIMEOUT_MS,
    connectionTimeoutMs: config.GATEWAY_CONNECTION_TIMEOUT_MS,
    failedAuthPerMinute: config.GATEWAY_FAILED_AUTH_PER_MINUTE,
    failedAuthTrackedAddresses: config.GATEWAY_FAILED_AUTH_TRACKED_ADDRESSES,
    metrics: w.metrics,
  };
}

/** The public API and dashboard server, and the operator server when `GATEWAY_OPERATOR_TOKEN` is set. */
async function buildServers(
  w: Wiring,
  access: Access,
  upstreams: Upstreams,
): Promise<{ http: FastifyInstance; operatorHttp: FastifyInstance | undefined }> {
  const { config, logger } = w;
  const limits = serverLimits(w);
  const { adminTokens, auditLog, jwtVerifier } = access;
  const streams = createStreamRegistry({
    maxStreams: config.GATEWAY_SSE_MAX_STREAMS,
    maxPerSchool: config.GATEWAY_SSE_MAX_PER_SCHOOL,
    maxPerCredential: config.GATEWAY_SSE_MAX_PER_CREDENTIAL,
  });
  const http = await buildHttpServer({
    ...limits,
    logger,
    adminTokens,
    auditLog,
    ...(jwtVerifier === undefined ? {} : { jwtVerifier }),
    ...upstreams,
    webDir: config.GATEWAY_WEB_DIR ?? DEFAULT_WEB_DIR,
    ratePerMinute: config.GATEWAY_RATE_LIMIT_PER_MINUTE,
    expensivePerMinute: config.GATEWAY_RATE_LIMIT_EXPENSIVE_PER_MINUTE,
    streams,
    streamLimits: {
      maxLifetimeMs: config.GATEWAY_SSE_MAX_LIFETIME_MS,
      reverifyMs: config.GATEWAY_SSE_REVERIFY_MS,
    },
  });
  const operatorHttp =
    config.GATEWAY_OPERATOR_TOKEN === undefined
      ? undefined
      : await buildOperatorServer({
          ...limits,
          logger,
          adminTokens,
          auditLog,
          operatorToken: config.GATEWAY_OPERATOR_TOKEN,
          onRevoked: (tokenId) => streams.endActor(`token:${tokenId}`),
        });
  return { http, operatorHttp };
}
