import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { ServerOptions, ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import type { MessageTypeDefinition, PackageDefinition } from '@grpc/proto-loader';
import type { Logger } from '@isams-sync/logger';
import { HealthImplementation, service as healthService } from 'grpc-health-check';
import type { ServingStatusMap } from 'grpc-health-check';
import { bindHandlerLogger } from './handlers';

/** The standard health service name, listed by reflection next to the application services. */
export const HEALTH_SERVICE_NAME = 'grpc.health.v1.Health';

/** One service to serve. */
export interface GrpcServiceRegistration {
  /** The service definition, e.g. `pkg.isams_sync.roster.v1.RosterService.service`. */
  definition: ServiceDefinition;
  /** Method implementations, usually made with `unary()` / `serverStreaming()`. */
  implementation: UntypedServiceImplementation;
  /** Fully-qualified service name (`isams_sync.roster.v1.RosterService`): the health-check key. */
  name: string;
}

/** Options of {@link createGrpcServer}. */
export interface GrpcServerOptions {
  /** Root logger; wrapped handlers log through children of it. */
  logger: Logger;
  services: GrpcServiceRegistration[];
  /** Port to bind; 0 picks a free one (tests). */
  port: number;
  /** Interface to bind; default `0.0.0.0` (containers). */
  host?: string;
  /** Serve gRPC server reflection (for grpcurl/grpcui); default true. */
  reflection?: boolean;
  /** Extra grpc-js server options (message size limits, keepalive…). */
  serverOptions?: ServerOptions;
}

/** A started server. */
export interface GrpcServerHandle {
  /** The bound port (the real one when `port` was 0). */
  port: number;
  server: Server;
  /** Marks one service (by name) or the whole server (`''`) SERVING / NOT_SERVING in health checks. */
  setServing(name: string, serving: boolean): void;
  /**
   * Graceful stop: every health status becomes NOT_SERVING, new calls are refused, in-flight calls
   * get until `deadlineMs` to finish, then the rest are cancelled.
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

/**
 * Starts a grpc-js server with the isams-sync defaults: the standard gRPC health service (every
 * service name plus the overall `''`), server reflection, and plaintext HTTP/2 — TLS and mTLS are
 * terminated by the service mesh / ingress, never by the process.
 *
 * @example
 * ```ts
 * const grpcServer = await createGrpcServer({ logger, port: config.GRPC_PORT, services: [{
 *   name: 'isams_sync.roster.v1.RosterService', definition: RosterService.service, implementation,
 * }] });
 * process.once('SIGTERM', () => void grpcServer.shutdown(10_000));
 * ```
 */
export async function createGrpcServer(options: GrpcServerOptions): Promise<GrpcServerHandle> {
  const { logger, services } = options;
  const host = options.host ?? '0.0.0.0';
  const server = new Server(options.serverOptions);

  const names = ['', ...services.map((s) => s.name)];
  const health = new HealthImplementation(
    Object.fromEntries(names.map((n) => [n, 'NOT_SERVING'])) as ServingStatusMap,
  );
  health.addToServer(server);

  for (const svc of services) {
    const implementation: UntypedServiceImplementation = {};
    for (const [method, fn] of Object.entries(svc.implementation)) {
      implementation[method] = bindHandlerLogger(fn, logger);
    }
    server.addService(svc.definition, implementation);
  }

  if (options.reflection ?? true) {
    const definitions = [...services.map((s) => s.definition), healthService as ServiceDefinition];
    const fqNames = definitions.map(serviceNameOf).filter((n): n is string => n !== undefined);
    new ReflectionService(reflectionRoot(definitions), { services: fqNames }).addToServer(server);
  }

  const address =
    host.includes(':') && !host.startsWith('[') ? `[${host}]:${options.port}` : `${host}:${options.port}`;
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    ),
  );
  for (const n of names) health.setStatus(n, 'SERVING');
  logger.info({ port, host, services: services.map((s) => s.name) }, 'gRPC server listening');

  let stopping: Promise<void> | undefined;
  const shutdown = (deadlineMs: number): Promise<void> => {
    stopping ??= new Promise<void>((resolve) => {
      for (const n of names) health.setStatus(n, 'NOT_SERVING');
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
    setServing(name, serving) {
      health.setStatus(name, serving ? 'SERVING' : 'NOT_SERVING');
    },
    shutdown,
  };
}
