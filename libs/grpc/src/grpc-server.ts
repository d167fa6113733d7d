import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { ServerOptions, ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import type { MessageTypeDefinition, PackageDefinition } from '@grpc/proto-loader';
import type { Logger } from '@isams-sync/logger';
import { HealthImplementation, service as healthService } from 'grpc-health-check';

import { bindHandlerLogger, isTenantFreeHandler } from './handlers';
import { serviceAccessInterceptor } from './service-access';
import type { MethodAccess, ServiceCallers } from './service-access';
import type { ServiceKeyring } from './service-identity';

/** The standard health service name, listed by reflection next to the application services. */
export const HEALTH_SERVICE_NAME = 'grpc.health.v1.Health';

/**
 * The health-check key of liveness (the Kubernetes `grpc:` liveness probe's `service`): SERVING
 * while the server serves, whatever its dependencies say; only shutdown turns it NOT_SERVING. The
 * overall key `''` and every service name follow readiness instead (see {@link GrpcServerOptions.readiness}).
 */
export const LIVENESS_HEALTH_NAME = 'liveness';

/** What the server's health statuses follow (a `Readiness` of `@isams-sync/metrics` fits). */
export interface ReadinessSignal {
  isReady(): boolean;
  /** Called with the new value whenever readiness changes; returns the unsubscribe function. */
  subscribe(listener: (ready: boolean) => void): () => void;
}

/** One service to serve. */
export interface GrpcServiceRegistration {
  /** The service definition, e.g. `pkg.isams_sync.roster.v1.RosterService.service`. */
  definition: ServiceDefinition;
  /** Method implementations, usually made with `unary()` / `serverStreaming()`. */
  implementation: UntypedServiceImplementation;
  /** Fully-qualified service name (`isams_sync.roster.v1.RosterService`): the health-check key. */
  name: string;
  /**
   * Which calling services may call which method. Every method must resolve to at least one caller:
   * a method nobody is allowed to call fails start-up instead of being open.
   */
  callers: ServiceCallers;
}

/**
 * Message-size and keepalive limits of every server (grpc-js server options); `serverOptions`
 * overrides single keys. Requests are small (ids, settings, filters), responses are pages of at most
 * 1000 roster entities; 4 MiB in and 16 MiB out leave a wide margin while refusing a runaway
 * message. The server pings an idle-looking connection every 60 s and drops it when the ping is not
 * answered within 20 s (a peer that vanished without a FIN), and closes connections idle for 5 min.
 */
export const GRPC_SERVER_LIMITS: Readonly<ServerOptions> = Object.freeze({
  'grpc.max_receive_message_length': 4 * 1024 * 1024,
  'grpc.max_send_message_length': 16 * 1024 * 1024,
  'grpc.keepalive_time_ms': 60_000,
  'grpc.keepalive_timeout_ms': 20_000,
  'grpc.max_connection_idle_ms': 5 * 60_000,
});

/** Options of {@link createGrpcServer}. */
export interface GrpcServerOptions {
  /** Root logger; wrapped handlers log through children of it. */
  logger: Logger;
  services: GrpcServiceRegistration[];
  /** Port to bind; 0 picks a free one (tests). */
  port: number;
  /** Interface to bind; default `0.0.0.0` (containers). */
  host?: string;
  /**
   * Serve gRPC server reflection (for grpcurl/grpcui); default false (services turn it on with
   * `GRPC_REFLECTION=true`). Even then it needs a verified service identity.
   */
  reflection?: boolean;
  /** This service's keys: calls are accepted only with a token this keyring verifies. */
  identity: ServiceKeyring;
  /** Extra grpc-js server options, over {@link GRPC_SERVER_LIMITS}. */
  serverOptions?: ServerOptions;
  /**
   * The process' readiness: the overall health status `''` and every service's status are SERVING
   * only while it is ready (NOT_SERVING while Kafka or MongoDB is unreachable) and follow it by
   * themselves. Without it they are SERVING from bind to shutdown.
   */
  readiness?: ReadinessSignal;
}

/** A started server. */
export interface GrpcServerHandle {
  /** The bound port (the real one when `port` was 0). */
  port: number;
  server: Server;
  /**
   * Serves more services on the running server (a service's own, once its start has made the
   * use-cases: until then its health listens, and calls of them are refused). With reflection on,
   * every service must come in one call (at creation or here).
   */
  addServices(services: GrpcServiceRegistration[]): void;
  /** Marks one service (by name) or the whole server (`''`) SERVING / NOT_SERVING in health checks. */
  setServing(name: string, serving: boolean): void;
  /**
   * Aborted when {@link GrpcServerHandle.shutdown | shutdown} begins, before it waits for the calls
   * in flight. A call that never ends by itself (a server stream following something live) must end
   * on it, with a status that sends its caller elsewhere (`UNAVAILABLE` and the service's own code):
   * the server cannot choose that status, and such a call would otherwise hold the stop until its
   * deadline and then be cut. Listeners run synchronously inside `shutdown` and must not throw.
   */
  readonly stopping: AbortSignal;
  /**
   * Graceful stop: every health status becomes NOT_SERVING, {@link GrpcServerHandle.stopping} is
   * aborted, new calls are refused, in-flight calls get until `deadlineMs` to finish, then the rest
   * are cancelled.
   */
  shutdown(deadlineMs: number): Promise<void>;
}

/** The fully-qualified service name from a definition's method paths (`/pkg.Service/Method`). */
function serviceNameOf(definition: ServiceDefinition): string | undefined {
  const first = Object.values(definition)[0];
  return first?.path.split('/')[1];
}

/**
 * proto-loader service definitions carry the file descriptors of their request/response types, which
 * is all the reflection service needs; building its input from them saves callers from passing the
 * package definition separately.
 */
function reflectionRoot(definitions: ServiceDefinition[]): PackageDefinition {
  const root: PackageDefinition = {};
  definitions.forEach((definition, i) => {
    for (const [method, def] of Object.entries(definition)) {
      const { requestType, responseType } = def as {
        requestType?: MessageTypeDefinition<object, object>;
        responseType?: MessageTypeDefinition<object, object>;
      };
      if (requestType !== undefined) root[`${i}/${method}/request`] = requestType;
      if (responseType !== undefined) root[`${i}/${method}/response`] = responseType;
    }
  });
  return root;
}

/** The access rule of every method of the registered services, by full path. */
function methodAccess(services: GrpcServiceRegistration[]): Map<string, MethodAccess> {
  const access = new Map<string, MethodAccess>();
  for (const svc of services) {
    const known = new Set(Object.entries(svc.definition).flatMap(([k, d]) => [k, d.originalName ?? k]));
    for (const listed of Object.keys(svc.callers.methods ?? {}))
      if (!known.has(listed))
        throw new Error(`${svc.name}: callers.methods names unknown method "${listed}"`);
    // proto-loader keys methods by their proto name (`GetEntity`); `originalName` is the camelCase one.
    for (const [key, def] of Object.entries(svc.definition)) {
      const alias = def.originalName ?? key;
      const callers = svc.callers.methods?.[key] ?? svc.callers.methods?.[alias] ?? svc.callers.default;
      if (callers.length === 0) throw new Error(`${svc.name}/${key}: no caller is allowed`);
      const fn = svc.implementation[key] ?? svc.implementation[alias];
      access.set(def.path, { callers: new Set(callers), tenantFree: isTenantFreeHandler(fn) });
    }
  }
  return access;
}

/**
 * Starts a grpc-js server with the isams-sync defaults: the standard gRPC health service (every
 * service name plus the overall `''`, following `readiness`, and {@link LIVENESS_HEALTH_NAME}), a service-identity check before every other call (see
 * {@link serviceAccessInterceptor}), message-size and keepalive limits ({@link GRPC_SERVER_LIMITS}),
 * reflection only when asked for, and plaintext HTTP/2.
 *
 * @example
 * ```ts
 * const grpcServer = await createGrpcServer({
 *   logger, port: config.GRPC_PORT, identity: serviceKeyringFromConfig(config, 'roster'),
 *   reflection: config.GRPC_REFLECTION,
 *   services: [{
 *     name: 'isams_sync.roster.v1.RosterService', definition: RosterService.service, implementation,
 *     callers: { default: ['gateway'], methods: { GetEntity: ['gateway', 'bookings'] } },
 *   }],
 * });
 * process.once('SIGTERM', () => void grpcServer.shutdown(10_000));
 * ```
 */
export async function createGrpcServer(options: GrpcServerOptions): Promise<GrpcServerHandle> {
  const { logger, services } = options;
  const host = options.host ?? '0.0.0.0';
  const reflection = options.reflection ?? false;
  // Filled as services are registered (at creation or later by `addServices`); read per call.
  const access = new Map<string, MethodAccess>();
  const server = new Server({
    ...GRPC_SERVER_LIMITS,
    ...options.serverOptions,
    interceptors: [
      serviceAccessInterceptor({ keyring: options.identity, methods: access, reflection, logger }),
      ...(options.serverOptions?.interceptors ?? []),
    ],
  });

  const names = [''];
  const health = new HealthImplementation({ '': 'NOT_SERVING', [LIVENESS_HEALTH_NAME]: 'NOT_SERVING' });
  health.addToServer(server);
  let reflecting = false;
  let stopping: Promise<void> | undefined;
  const stopSignal = new AbortController();
  let ready = (): boolean => options.readiness?.isReady() ?? true;

  const addServices = (added: GrpcServiceRegistration[]): void => {
    if (added.length === 0) return;
    if (added.some((s) => s.name === LIVENESS_HEALTH_NAME))
      throw new Error(`"${LIVENESS_HEALTH_NAME}" is the liveness health key, not a service name`);
    if (reflecting) throw new Error('gRPC reflection already lists the services: add them all at once');
    for (const [path, rule] of methodAccess(added)) access.set(path, rule);
    for (const svc of added) {
      const implementation: UntypedServiceImplementation = {};
      for (const [method, fn] of Object.entries(svc.implementation)) {
        implementation[method] = bindHandlerLogger(fn, logger);
      }
      server.addService(svc.definition, implementation);
      names.push(svc.name);
      health.setStatus(svc.name, !stopping && ready() ? 'SERVING' : 'NOT_SERVING');
    }
    if (reflection) {
      reflecting = true;
      const definitions = [...added.map((s) => s.definition), healthService as ServiceDefinition];
      const fqNames = definitions.map(serviceNameOf).filter((n): n is string => n !== undefined);
      new ReflectionService(reflectionRoot(definitions), { services: fqNames }).addToServer(server);
    }
  };
  addServices(services);

  const address =
    host.includes(':') && !host.startsWith('[') ? `[${host}]:${options.port}` : `${host}:${options.port}`;
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    ),
  );
  const follow = (isReady: boolean) => {
    if (stopping) return;
    ready = () => isReady;
    for (const n of names) health.setStatus(n, isReady ? 'SERVING' : 'NOT_SERVING');
  };
  health.setStatus(LIVENESS_HEALTH_NAME, 'SERVING');
  follow(options.readiness?.isReady() ?? true);
  const unsubscribe = options.readiness?.subscribe(follow);
  logger.info(
    {
      port,
      host,
      services: names.slice(1),
      reflection,
      callers: [...options.identity.verifying.keys()],
    },
    'gRPC server listening',
  );

  const shutdown = (deadlineMs: number): Promise<void> => {
    stopping ??= new Promise<void>((resolve) => {
      unsubscribe?.();
      for (const n of [...names, LIVENESS_HEALTH_NAME]) health.setStatus(n, 'NOT_SERVING');
      // Before tryShutdown waits for them: the calls that never end by themselves end now.
      stopSignal.abort(new Error('gRPC server stopping'));
      const timer = setTimeout(() => {
        logger.warn({ deadlineMs }, 'gRPC graceful shutdown deadline passed; cancelling remaining calls');
        server.forceShutdown();
        resolve();
      }, deadlineMs);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    }).then(() => logger.info('gRPC server stopped'));
    return stopping;
  };

  return {
    port,
    server,
    addServices,
    setServing(name, serving) {
      health.setStatus(name, serving ? 'SERVING' : 'NOT_SERVING');
    },
    stopping: stopSignal.signal,
    shutdown,
  };
}
