import { fileURLToPath } from 'node:url';
import { serviceKeyringFromConfig } from '@isams-sync/grpc';
import { createLogger } from '@isams-sync/logger';
import type { Logger } from '@isams-sync/logger';
import { createMetrics, createReadiness, startOpsServer } from '@isams-sync/metrics';
import type { OpsServer } from '@isams-sync/metrics';
import { connectMongo, ensureIndexes, mongoReadinessCheck } from '@isams-sync/mongo';
import type { MongoConnection } from '@isams-sync/mongo';
import type { FastifyInstance } from 'fastify';
import type { GatewayConfig } from './config';
import { createJwtVerifier } from './adapters/auth/jwt-verifier';
import { createConnectorGateway } from './adapters/grpc-clients/connector.gateway';
import type { ConnectorGateway } from './adapters/grpc-clients/connector.gateway';
import { createBookingsGateway } from './adapters/grpc-clients/bookings.gateway';
import type { BookingsGateway } from './adapters/grpc-clients/bookings.gateway';
import { createRosterGateway } from './adapters/grpc-clients/roster.gateway';
import type { RosterGateway } from './adapters/grpc-clients/roster.gateway';
import { createMongoAdminTokenRepository } from './adapters/mongo/admin-token.repository';
import { createMongoAuditLog } from './adapters/mongo/audit-log.repository';
import { GATEWAY_INDEXES } from './adapters/mongo/collections';
import { buildHttpServer, buildOperatorServer } from './handlers/http/http-server';
import type { ServerLimits } from './handlers/http/http-server';
import { createStreamRegistry } from './domain/stream-registry';
import { createAdminTokens } from './use-cases/admin-tokens';

/** Test seams: upstream gateways and the logger. */
export interface GatewayAppOverrides {
  logger?: Logger;
  connector?: ConnectorGateway;
  roster?: RosterGateway;
  bookings?: BookingsGateway;
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
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The dashboard's static files (HTML, ES modules, CSS), served by the gateway itself. */
export const DEFAULT_WEB_DIR = fileURLToPath(new URL('./web/', import.meta.url));

/** Composition root: connects Mongo, builds adapters, the upstream gateways and the HTTP server. */
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
  const metrics = createMetrics({ service: 'gateway' });
  const mongo = await connectMongo({
    url: config.MONGO_URL,
    dbName: config.MONGO_DB,
    logger,
    appName: 'gateway',
  });
  await ensureIndexes(mongo.db, GATEWAY_INDEXES);

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
        });
  const identity = serviceKeyringFromConfig(config, 'gateway');
  const connector =
    overrides.connector ??
    createConnectorGateway({
      address: config.CONNECTOR_GRPC_ADDRESS,
      deadlineMs: config.GATEWAY_UPSTREAM_TIMEOUT_MS,
      testConnectionDeadlineMs: config.GATEWAY_TEST_CONNECTION_TIMEOUT_MS,
      identity,
      ...(config.PROTOS_DIR === undefined ? {} : { protosDir: config.PROTOS_DIR }),
    });

  const protos = config.PROTOS_DIR === undefined ? {} : { protosDir: config.PROTOS_DIR };
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

  const limits: ServerLimits = {
    bodyLimitBytes: config.GATEWAY_BODY_LIMIT_BYTES,
    trustProxy: config.GATEWAY_TRUST_PROXY,
    headersTimeoutMs: config.GATEWAY_HEADERS_TIMEOUT_MS,
    requestTimeoutMs: config.GATEWAY_REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: config.GATEWAY_KEEP_ALIVE_TIMEOUT_MS,
    connectionTimeoutMs: config.GATEWAY_CONNECTION_TIMEOUT_MS,
    failedAuthPerMinute: config.GATEWAY_FAILED_AUTH_PER_MINUTE,
    failedAuthTrackedAddresses: config.GATEWAY_FAILED_AUTH_TRACKED_ADDRESSES,
    metrics,
  };
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
    connector,
    roster,
    bookings,
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

  let ops: OpsServer | undefined;
  // MongoDB only: the gateway has no Kafka connection, and the back-end services are not readiness
  // dependencies (their outage shows as 503s of the calls that need them, not as a gateway outage).
  const readiness = createReadiness({
    checks: [mongoReadinessCheck(mongo)],
    intervalMs: config.READINESS_INTERVAL_MS,
    timeoutMs: config.READINESS_TIMEOUT_MS,
    logger,
    metrics,
  });
  let httpPort = 0;
  let operatorPort = 0;
  let stopping: Promise<void> | undefined;
  const boundPort = (server: FastifyInstance, fallback: number) => {
    const address = server.server.address();
    return typeof address === 'object' && address !== null ? address.port : fallback;
  };
  return {
    http,
    operatorHttp,
    mongo,
    get httpPort() {
      return httpPort;
    },
    get operatorPort() {
      return operatorPort;
    },
    get opsPort() {
      return ops?.port ?? 0;
    },
    async start() {
      await http.listen({ host: config.HTTP_HOST, port: config.HTTP_PORT });
      httpPort = boundPort(http, config.HTTP_PORT);
      if (operatorHttp !== undefined) {
        await operatorHttp.listen({ host: config.GATEWAY_OPERATOR_HOST, port: config.GATEWAY_OPERATOR_PORT });
        operatorPort = boundPort(operatorHttp, config.GATEWAY_OPERATOR_PORT);
      }
      await readiness.start();
      ops = await startOpsServer({
        port: config.OPS_PORT,
        metrics,
        logger,
        readiness: () => readiness.isReady(),
      });
      logger.info({ httpPort, operatorPort, opsPort: ops.port }, 'gateway listening');
    },
    stop() {
      stopping ??= (async () => {
        readiness.stop();
        await http.close();
        await operatorHttp?.close();
        await ops?.close();
        connector.close();
        roster.close();
        bookings.close();
        await mongo.close();
      })();
      return stopping;
    },
  };
}
