import { createHash, randomUUID } from 'node:crypto';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import type { Logger } from '@isams-sync/logger';
import Fastify from 'fastify';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import type { BookingsGateway } from '../../adapters/grpc-clients/bookings.gateway';
import type { ConnectorGateway } from '../../adapters/grpc-clients/connector.gateway';
import type { RosterGateway } from '../../adapters/grpc-clients/roster.gateway';
import type { AuditLog } from '../../adapters/mongo/audit-log.repository';
import type { JwtVerifier } from '../../adapters/auth/jwt-verifier';
import { GatewayErrors } from '../../domain/gateway-errors';
import type { AdminTokens } from '../../use-cases/admin-tokens';
import { connectorRoutes } from './connector.routes';
import { installErrorHandlers } from './error-handler';
import { createFailedAuthLimiter } from './failed-auth-limiter';
import { operatorRoutes } from './operator.routes';
import { rosterBookingsRoutes } from './roster-bookings.routes';
import { createLiveEventCheck } from '../../use-cases/removal-impact';
import { registerSchoolScope } from './school-scope';
import { sessionRoutes } from './session.routes';
import { registerWebRoutes } from './web.routes';

/** Everything the HTTP server needs; upstream gateways that are absent have no routes. */
export interface HttpServerDeps {
  logger: Logger;
  adminTokens: AdminTokens;
  auditLog: AuditLog;
  jwtVerifier?: JwtVerifier;
  operatorToken?: string;
  connector: ConnectorGateway;
  roster: RosterGateway;
  bookings: BookingsGateway;
  webDir?: string;
  bodyLimitBytes: number;
  ratePerMinute: number;
  /** Failed authentications allowed per client IP and minute. */
  failedAuthPerMinute: number;
  expensivePerMinute: number;
  trustProxy: boolean;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function rateLimitKey(request: FastifyRequest): string {
  const auth = request.headers.authorization;
  // Keyed by credential (hashed, never kept in clear) so one school cannot starve another behind a NAT.
  if (typeof auth === 'string' && auth !== '')
    return `cred:${createHash('sha256').update(auth).digest('base64url').slice(0, 32)}`;
  return `ip:${request.ip}`;
}

/** Builds the fastify app: security plugins, OpenAPI, error model, auth scopes, routes, dashboard. */
export async function buildHttpServer(deps: HttpServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger.child({ module: 'http' }) as FastifyBaseLogger,
    bodyLimit: deps.bodyLimitBytes,
    trustProxy: deps.trustProxy,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    routerOptions: { maxParamLength: 200 },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // JSON only: a text/plain body is refused (415) rather than handed to a route as a string.
  app.removeContentTypeParser('text/plain');
  installErrorHandlers(app, deps.bodyLimitBytes);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
      },
    },
    crossOriginEmbedderPolicy: true,
    referrerPolicy: { policy: 'no-referrer' },
  });
  await app.register(rateLimit, {
    global: true,
    max: deps.ratePerMinute,
    timeWindow: 60_000,
    keyGenerator: rateLimitKey,
    errorResponseBuilder: (_request, context) =>
      GatewayErrors.GATEWAY_RATE_LIMITED({ retryAfterSeconds: Math.max(1, Math.ceil(context.ttl / 1000)) }),
  });
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.url.startsWith('/api/')) reply.header('cache-control', 'no-store');
    return payload;
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'isams-sync admin API',
        version: '1.0.0',
        description:
          'Per-school administration of the iSAMS data source, sync runs, held removals, roster and bookings. Every error is `{ "error": { "code", "message", "details?", "requestId" } }`.',
      },
      components: {
        securitySchemes: {
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            description: 'A school admin token (isg_…) or a signed JWT with a tenantId claim',
          },
          operatorAuth: { type: 'http', scheme: 'bearer', description: 'GATEWAY_OPERATOR_TOKEN' },
        },
      },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  const limiter = createFailedAuthLimiter({ max: deps.failedAuthPerMinute, windowMs: 60_000 });
  if (deps.operatorToken !== undefined) {
    await app.register(operatorRoutes, {
      limiter,
      adminTokens: deps.adminTokens,
      auditLog: deps.auditLog,
      operatorToken: deps.operatorToken,
    });
  }
  const auth = {
    adminTokens: deps.adminTokens,
    ...(deps.jwtVerifier === undefined ? {} : { jwtVerifier: deps.jwtVerifier }),
  };
  await registerSchoolScope(app, auth, limiter, async (scoped) => {
    await scoped.register(sessionRoutes, { auditLog: deps.auditLog });
    await scoped.register(connectorRoutes, {
      connector: deps.connector,
      auditLog: deps.auditLog,
      expensivePerMinute: deps.expensivePerMinute,
      liveEvents: createLiveEventCheck(deps.bookings),
    });
    await scoped.register(rosterBookingsRoutes, {
      roster: deps.roster,
      bookings: deps.bookings,
      auditLog: deps.auditLog,
    });
  });
  if (deps.webDir !== undefined) await registerWebRoutes(app, deps.webDir);
  return app;
}
