import { randomUUID } from 'node:crypto';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import type { Logger } from '@isams-sync/logger';
import type { Metrics } from '@isams-sync/metrics';
import Fastify from 'fastify';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import type { BookingsGateway } from '../../use-cases/ports';
import type { ConnectorGateway } from '../../use-cases/ports';
import type { RosterGateway } from '../../use-cases/ports';
import type { AuditLog } from '../../adapters/mongo/audit-log.repository';
import type { JwtVerifier } from '../../adapters/auth/jwt-verifier';
import { bearerCredential } from '../../domain/admin-token';
import { GatewayErrors } from '../../domain/gateway-errors';
import { credentialKey } from '../../domain/token-crypto';
import type { AdminTokens } from '../../use-cases/admin-tokens';
import { connectorRoutes } from './connector.routes';
import { clientErrorHandler, frameworkErrorHandler, installErrorHandlers } from './error-handler';
import { installHttpMetrics } from './http-metrics';
import { createFailedAuthLimiter } from './failed-auth-limiter';
import { operatorRoutes } from './operator.routes';
import { rosterBookingsRoutes } from './roster-bookings.routes';
import { createLiveEventCheck } from '../../use-cases/removal-impact';
import { serializeRequest } from './request-log';
import { registerSchoolScope } from './school-scope';
import { sessionRoutes } from './session.routes';
import { thresholdsRoutes } from './thresholds.routes';
import { registerWebRoutes } from './web.routes';
import { verifySchoolCredential } from './auth';
import type { StreamRegistry } from '../../domain/stream-registry';
import { extractContext, SpanKind, SpanStatusCode, startSpan, withContext } from '@isams-sync/telemetry';
import type { Context, Span, TextMapGetter } from '@isams-sync/telemetry';

/**
 * @fastify/swagger marks every request body required; a route whose body schema accepts null
 * (`schema.nullish()`: "no body" is fine) gets `requestBody.required: false`.
 */
function markOptionalBodies<T>(doc: T): T {
  const paths = (doc as { paths?: Record<string, Record<string, unknown>> }).paths ?? {};
  for (const operations of Object.values(paths)) {
    for (const operation of Object.values(operations)) {
      const body = (
        operation as { requestBody?: { required?: boolean; content?: Record<string, { schema?: unknown }> } }
      ).requestBody;
      if (body?.content === undefined) continue;
      const acceptsNull = Object.values(body.content).some(({ schema }) => {
        const s = schema as {
          type?: unknown;
          anyOf?: Array<{ type?: unknown }>;
          oneOf?: Array<{ type?: unknown }>;
        };
        const isNull = (t: unknown) => t === 'null' || (Array.isArray(t) && t.includes('null'));
        return isNull(s?.type) || [...(s?.anyOf ?? []), ...(s?.oneOf ?? [])].some((v) => isNull(v.type));
      });
      if (acceptsNull) body.required = false;
    }
  }
  return doc;
}

/** Server-level limits shared by the public and the operator listener. */
export interface ServerLimits {
  bodyLimitBytes: number;
  /** `false`, a number of trusted proxy hops, or trusted proxy addresses/CIDRs. */
  trustProxy: false | number | string[];
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  connectionTimeoutMs: number;
  /** Failed authentications allowed per client address and minute. */
  failedAuthPerMinute: number;
  /** Client addresses the failed-auth limiter remembers at most. */
  failedAuthTrackedAddresses: number;
  /** Where the listener's request metrics (RED) go; none without. */
  metrics?: Metrics;
}

/** Everything the public HTTP server needs. */
export interface HttpServerDeps extends ServerLimits {
  logger: Logger;
  adminTokens: AdminTokens;
  auditLog: AuditLog;
  jwtVerifier?: JwtVerifier;
  connector: ConnectorGateway;
  roster: RosterGateway;
  bookings: BookingsGateway;
  webDir?: string;
  ratePerMinute: number;
  expensivePerMinute: number;
  streams: StreamRegistry;
  streamLimits: { maxLifetimeMs: number; reverifyMs: number };
}

/** Everything the operator HTTP server needs. */
export interface OperatorServerDeps extends ServerLimits {
  logger: Logger;
  adminTokens: AdminTokens;
  auditLog: AuditLog;
  operatorToken: string;
  /** Called after a token is revoked (ends its open streams on this replica). */
  onRevoked?: (tokenId: string) => void;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * fastify's `trustProxy`: CIDRs as they are; a hop count as a function that trusts the socket peer
 * and the next `hops - 1` X-Forwarded-For entries from the right (fastify itself refuses plain
 * numbers). Entries further left — what the client wrote itself — are never taken as the address.
 */
function trustProxyOption(
  trust: ServerLimits['trustProxy'],
): false | string[] | ((a: string, i: number) => boolean) {
  if (typeof trust !== 'number') return trust;
  return (_address, hop) => hop < trust;
}

/**
 * Keyed by credential (hashed, never kept in clear) so one school cannot starve another behind a NAT:
 * the credential as authentication reads it, not the raw header, whose spelling (`bearer`, extra
 * whitespace) a client can vary at will. Any other header can be varied just as freely, so a request
 * without a bearer credential is keyed by its address.
 */
function rateLimitKey(request: FastifyRequest): string {
  // A route that needs no login (the dashboard's files, the OpenAPI document) reads no credential:
  // keyed by one, an invented token per request would buy a fresh bucket each time.
  if (request.routeOptions.config.schoolScoped !== true) return `ip:${request.ip}`;
  const credential = bearerCredential(request.headers.authorization);
  if (credential !== undefined) return `cred:${credentialKey(credential)}`;
  return `ip:${request.ip}`;
}

const REQUEST_SPAN = Symbol('requestSpan');
type RequestSpan = { span: Span; context: Context };

/**
 * One SERVER span per request (a new trace, or the caller's when it sent a W3C `traceparent`), active
 * while the route runs, so the gRPC calls it makes are its children. Attributes are the method, the
 * route template (never the raw URL: no query string, no token) and the status code.
 */
function installRequestSpans(app: FastifyInstance): void {
  // Callback style: fastify runs the later hooks and the handler inside `done`, so inside the span.
  app.addHook('onRequest', (request, _reply, done) => {
    const route = request.routeOptions.url;
    const started = startSpan(`${request.method} ${route ?? 'unmatched'}`, {
      kind: SpanKind.SERVER,
      parent: extractContext(request.headers, headerGetter),
      attributes: {
        'http.request.method': request.method,
        ...(route === undefined ? {} : { 'http.route': route }),
      },
    });
    (request as unknown as Record<symbol, RequestSpan>)[REQUEST_SPAN] = started;
    withContext(started.context, done);
  });
  // Reading the body runs in the socket's callbacks, outside the span: entered again for the handler.
  app.addHook('preHandler', (request, _reply, done) => {
    const started = (request as unknown as Record<symbol, RequestSpan | undefined>)[REQUEST_SPAN];
    if (started === undefined) done();
    else withContext(started.context, done);
  });
  app.addHook('onResponse', async (request, reply) => {
    const span = (request as unknown as Record<symbol, RequestSpan | undefined>)[REQUEST_SPAN]?.span;
    if (span === undefined) return;
    span.setAttribute('http.response.status_code', reply.statusCode);
    if (reply.statusCode >= 500) {
      span.setAttribute('error.type', String(reply.statusCode));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  });
}

const headerGetter: TextMapGetter<Record<string, string | string[] | undefined>> = {
  keys: (headers) => Object.keys(headers),
  get: (headers, key) => {
    const value = headers[key];
    return Array.isArray(value) ? value[0] : value;
  },
};

/**
 * The common base of both listeners: timeouts, proxy trust, request ids, JSON-only bodies, the
 * error model, security headers, the general rate limit and an OpenAPI document of its routes.
 */
async function createBaseServer(
  deps: ServerLimits & { logger: Logger },
  name: string,
  openapi: {
    title: string;
    description: string;
    securitySchemes: Record<string, { type: 'http'; scheme: string; description: string }>;
  },
  /** The general rate limit (requests per minute and key) of every route, the OpenAPI document's included. */
  ratePerMinute?: number,
): Promise<FastifyInstance> {
  const app = Fastify({
    // Its own `req` serializer: fastify's logs the raw URL, search values (people's names) included.
    loggerInstance: deps.logger.child(
      { module: name },
      { serializers: { req: serializeRequest } },
    ) as FastifyBaseLogger,
    bodyLimit: deps.bodyLimitBytes,
    trustProxy: trustProxyOption(deps.trustProxy),
    // Node checks headers/request timeouts every connectionsCheckingInterval (30 s by default).
    http: {
      headersTimeout: deps.headersTimeoutMs,
      connectionsCheckingInterval: Math.min(1_000, deps.headersTimeoutMs),
    },
    requestTimeout: deps.requestTimeoutMs,
    keepAliveTimeout: deps.keepAliveTimeoutMs,
    connectionTimeout: deps.connectionTimeoutMs,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    routerOptions: { maxParamLength: 200 },
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // JSON only: a text/plain body is refused (415) rather than handed to a route as a string.
  app.removeContentTypeParser('text/plain');
  installErrorHandlers(app, deps.bodyLimitBytes);
  if (deps.metrics !== undefined)
    installHttpMetrics(app, deps.metrics, name === 'operator-http' ? 'operator' : 'public');
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  installRequestSpans(app);

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
  // Decided by the response, never by the raw `request.url`: a request target in absolute form
  // (`GET http://host/api/… HTTP/1.1`) is routed like its path, but its URL does not start with `/api/`.
  // Only the dashboard's own files set their caching (`no-cache`); everything else is `no-store`.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });

  if (ratePerMinute !== undefined) await registerRateLimit(app, ratePerMinute);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: openapi.title, version: '1.0.0', description: openapi.description },
      components: { securitySchemes: openapi.securitySchemes },
    },
    transform: jsonSchemaTransform,
    transformObject: (input) => markOptionalBodies(jsonSchemaTransformObject(input)),
  });
  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}

async function registerRateLimit(app: FastifyInstance, ratePerMinute: number): Promise<void> {
  await app.register(rateLimit, {
    global: true,
    max: ratePerMinute,
    timeWindow: 60_000,
    keyGenerator: rateLimitKey,
    errorResponseBuilder: (_request, context) =>
      GatewayErrors.GATEWAY_RATE_LIMITED({ retryAfterSeconds: Math.max(1, Math.ceil(context.ttl / 1000)) }),
  });
}

const ERROR_MODEL =
  'Every error is `{ "error": { "code", "message", "details?", "requestId" } }`; a request refused for its fields (400 `GATEWAY_VALIDATION_FAILED`, or an upstream invalid-argument code) names them in `details.issues[]` (`in`, `path`, `message`).';

/** Builds the public app: school admin API (token/JWT, tenancy) and the dashboard. No operator routes. */
export async function buildHttpServer(deps: HttpServerDeps): Promise<FastifyInstance> {
  const app = await createBaseServer(
    deps,
    'http',
    {
      title: 'isams-sync admin API',
      description: `Per-school administration of the iSAMS data source, sync runs, held removals, roster and bookings. ${ERROR_MODEL}`,
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description: 'A school admin token (isg_…) or a signed JWT with a tenantId claim',
        },
      },
    },
    deps.ratePerMinute,
  );
  const limiter = createFailedAuthLimiter({
    max: deps.failedAuthPerMinute,
    windowMs: 60_000,
    maxTracked: deps.failedAuthTrackedAddresses,
  });
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
      schoolTimeZone: (ctx, timeZone) => deps.bookings.setSchoolTimeZone(ctx, timeZone),
      streams: deps.streams,
      streamLimits: deps.streamLimits,
      reverify: (credential: string) => verifySchoolCredential(auth, credential),
    });
    await scoped.register(rosterBookingsRoutes, {
      roster: deps.roster,
      bookings: deps.bookings,
      auditLog: deps.auditLog,
    });
    await scoped.register(thresholdsRoutes, { roster: deps.roster, auditLog: deps.auditLog });
  });
  if (deps.webDir !== undefined) await registerWebRoutes(app, deps.webDir);
  // A stream never finishes by itself, and `close()` waits for every request in flight: the streams
  // end first (`event: error` GATEWAY_SHUTTING_DOWN), the other requests finish as they are.
  app.addHook('preClose', async () => {
    deps.streams.closeAll();
  });
  return app;
}

/**
 * Builds the operator app (token administration, bearer `GATEWAY_OPERATOR_TOKEN`): a separate
 * listener, loopback by default and never in the chart's Service, so the public listener has no
 * operator routes at all.
 */
export async function buildOperatorServer(deps: OperatorServerDeps): Promise<FastifyInstance> {
  const app = await createBaseServer(deps, 'operator-http', {
    title: 'isams-sync operator API',
    description: `Platform-operator administration of school admin tokens. ${ERROR_MODEL}`,
    securitySchemes: {
      operatorAuth: { type: 'http', scheme: 'bearer', description: 'GATEWAY_OPERATOR_TOKEN' },
    },
  });
  await app.register(operatorRoutes, {
    limiter: createFailedAuthLimiter({
      max: deps.failedAuthPerMinute,
      windowMs: 60_000,
      maxTracked: deps.failedAuthTrackedAddresses,
    }),
    adminTokens: deps.adminTokens,
    auditLog: deps.auditLog,
    operatorToken: deps.operatorToken,
    ...(deps.onRevoked === undefined ? {} : { onRevoked: deps.onRevoked }),
  });
  return app;
}
