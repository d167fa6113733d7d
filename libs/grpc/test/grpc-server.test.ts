import { credentials, loadPackageDefinition, status } from '@grpc/grpc-js';
import type { Client, ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { AppError } from '@isams-sync/errors';
import { afterEach, describe, expect, it } from 'vitest';
import { reflectionClient } from './helpers/reflection-client';
import {
  callMetadata,
  createGrpcClient,
  GrpcCallError,
  LIVENESS_HEALTH_NAME,
  promisifyUnary,
  serverStreaming,
  serviceTokenInterceptor,
  unary,
} from '../src';
import type { CallContext, GrpcServerHandle } from '../src';
import {
  ECHO_SERVICE,
  echoIdentity,
  type EchoResponse,
  loadEchoPackage,
  nextSlowStart,
  startEchoServer,
} from './helpers/echo-service';

type HealthClient = Client & {
  check(req: { service: string }, cb: (err: ServiceError | null, res?: { status: string }) => void): void;
};

const opts = { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true };

function healthClient(address: string): HealthClient {
  const pkg = loadPackageDefinition(loadSync(healthProtoPath, opts)) as unknown as {
    grpc: {
      health: {
        v1: { Health: new (a: string, c: ReturnType<typeof credentials.createInsecure>) => HealthClient };
      };
    };
  };
  return new pkg.grpc.health.v1.Health(address, credentials.createInsecure());
}

function checkHealth(client: HealthClient, service: string): Promise<string> {
  return new Promise((resolve, reject) =>
    client.check({ service }, (err, res) => (err ? reject(err) : resolve(res!.status))),
  );
}

const servers: GrpcServerHandle[] = [];
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.shutdown(1000)));
});

/** An echo client of the server at `address` (closed after the test). */
function echoClient(address: string, deadlineMs: number) {
  const client = createGrpcClient(loadEchoPackage().isams_sync.testing.v1.EchoService, address, {
    identity: echoIdentity(),
    deadlineMs,
  });
  clients.push(client);
  return client;
}

describe('createGrpcServer', () => {
  it('reports SERVING for every service and the server, and follows setServing', async () => {
    const { handle, address } = await startEchoServer();
    servers.push(handle);
    const health = healthClient(address);
    clients.push(health);

    expect(await checkHealth(health, '')).toBe('SERVING');
    expect(await checkHealth(health, ECHO_SERVICE)).toBe('SERVING');

    handle.setServing(ECHO_SERVICE, false);
    expect(await checkHealth(health, ECHO_SERVICE)).toBe('NOT_SERVING');
    expect(await checkHealth(health, '')).toBe('SERVING');

    handle.setServing(ECHO_SERVICE, true);
    expect(await checkHealth(health, ECHO_SERVICE)).toBe('SERVING');
    await expect(checkHealth(health, 'no.such.Service')).rejects.toMatchObject({ code: status.NOT_FOUND });
  });

  it('follows readiness on the overall and service statuses, while liveness stays SERVING', async () => {
    const listeners = new Set<(ready: boolean) => void>();
    let ready = false;
    const setReady = (value: boolean) => {
      ready = value;
      for (const l of listeners) l(value);
    };
    const readiness = {
      isReady: () => ready,
      subscribe: (l: (value: boolean) => void) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
    };
    const { handle, address } = await startEchoServer(undefined, { readiness });
    servers.push(handle);
    const health = healthClient(address);
    clients.push(health);
    const statuses = async () => ({
      all: await checkHealth(health, ''),
      echo: await checkHealth(health, ECHO_SERVICE),
      liveness: await checkHealth(health, LIVENESS_HEALTH_NAME),
    });

    // Not ready at bind (e.g. a dependency down at start): NOT_SERVING, but alive.
    expect(await statuses()).toEqual({ all: 'NOT_SERVING', echo: 'NOT_SERVING', liveness: 'SERVING' });
    setReady(true);
    expect(await statuses()).toEqual({ all: 'SERVING', echo: 'SERVING', liveness: 'SERVING' });
    setReady(false);
    expect(await statuses()).toEqual({ all: 'NOT_SERVING', echo: 'NOT_SERVING', liveness: 'SERVING' });
    setReady(true);
    expect(await statuses()).toEqual({ all: 'SERVING', echo: 'SERVING', liveness: 'SERVING' });

    // Shutdown wins over readiness: everything NOT_SERVING, and a later "ready" changes nothing.
    const stopped = handle.shutdown(1000);
    expect(listeners.size).toBe(0);
    setReady(true);
    await stopped;
  });

  it('serves reflection, when enabled, to a verified caller, listing the application and health services', async () => {
    const { handle, address } = await startEchoServer(undefined, { reflection: true });
    servers.push(handle);
    const client = reflectionClient(address, {
      interceptors: [serviceTokenInterceptor(echoIdentity('operator'))],
    });
    clients.push(client);

    const names = await new Promise<string[]>((resolve, reject) => {
      const stream = client.ServerReflectionInfo();
      stream.on('data', (res: { listServicesResponse?: { service: Array<{ name: string }> } }) => {
        resolve((res.listServicesResponse?.service ?? []).map((s) => s.name).sort());
        stream.end();
      });
      stream.on('error', reject);
      stream.write({ listServices: '*' });
    });
    expect(names).toEqual(['grpc.health.v1.Health', ECHO_SERVICE]);
  });

  it('lets an in-flight call finish on shutdown, then refuses new calls', async () => {
    const { handle, state, address } = await startEchoServer();
    const client = echoClient(address, 10_000);
    const health = healthClient(address);
    clients.push(health);
    const slow = promisifyUnary(client, 'slow');
    const echo = promisifyUnary(client, 'echo');
    expect(await checkHealth(health, '')).toBe('SERVING');

    const started = nextSlowStart(state);
    const inFlight = slow({ delayMs: 300 }, callMetadata({ tenantId: 'school-1' }));
    await started;
    const stopped = handle.shutdown(10_000);

    await expect(inFlight).resolves.toMatchObject({ text: 'slow done', tenantId: 'school-1' });
    await stopped;
    expect(state.lastSlowSignal?.aborted).toBe(false);

    const refused = await echo({ text: 'late' }, callMetadata({ tenantId: 'school-1' }), {
      deadlineMs: 2000,
    }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(GrpcCallError);
    expect((refused as GrpcCallError).code).toBe(status.UNAVAILABLE);
  });

  it('cancels calls still running when the shutdown deadline passes', async () => {
    const { handle, state, address } = await startEchoServer();
    const client = echoClient(address, 30_000);
    const started = nextSlowStart(state);
    const inFlight = promisifyUnary(client, 'slow')(
      { delayMs: 20_000 },
      callMetadata({ tenantId: 'school-1' }),
    );
    await started;
    await handle.shutdown(50);
    const err = await inFlight.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GrpcCallError);
    expect([status.CANCELLED, status.UNAVAILABLE]).toContain((err as GrpcCallError).code);
    await expect(state.slowAborted).resolves.toMatchObject({ code: 'GRPC_CALL_CANCELLED' });
  });
});

/**
 * Echo handlers for a stop: an Echo that answers only once `release` is called, and a Repeat that
 * sends once and never ends by itself — it ends on the server's `stopping`, with a status that sends
 * the caller elsewhere.
 */
function stopHandlers(stoppingOf: () => AbortSignal) {
  const reply = (ctx: CallContext, text: string): EchoResponse => ({
    text,
    tenantId: ctx.tenantId,
    requestId: ctx.requestId,
    actor: '',
    index: 0,
    big: '0',
  });
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let entered!: () => void;
  const inEcho = new Promise<void>((resolve) => (entered = resolve));
  const handlers = {
    Echo: unary<{ text: string }, EchoResponse>(async (req, ctx) => {
      entered();
      await held;
      return reply(ctx, req.text);
    }),
    Repeat: serverStreaming<{ text: string }, EchoResponse>(async (req, ctx, send) => {
      await send(reply(ctx, req.text));
      const stopping = stoppingOf();
      if (!stopping.aborted && !ctx.signal.aborted)
        await new Promise((resolve) => {
          stopping.addEventListener('abort', resolve, { once: true });
          ctx.signal.addEventListener('abort', resolve, { once: true });
        });
      if (stopping.aborted)
        throw new AppError({ code: 'TEST_SERVER_STOPPING', kind: 'unavailable', message: 'Go elsewhere' });
    }),
  };
  return { handlers, release, inEcho };
}

describe('createGrpcServer: stopping', () => {
  it('raises `stopping` before it waits for calls in flight: a stream ended on it lets the stop finish, a unary call in flight still finishes', async () => {
    const started: { handle?: GrpcServerHandle } = {};
    const { handlers, release, inEcho } = stopHandlers(() => started.handle!.stopping);
    const { handle, address } = await startEchoServer(undefined, { handlers });
    started.handle = handle;
    const client = echoClient(address, 60_000);
    const stream = client.repeat({ count: 1, text: 'live' }, callMetadata({ tenantId: 'school-1' }));
    const seen: string[] = [];
    let first!: () => void;
    const firstSeen = new Promise<void>((resolve) => (first = resolve));
    const ended = new Promise<GrpcCallError | 'end'>((resolve) => {
      stream.on('data', (r: EchoResponse) => {
        seen.push(r.text);
        first();
      });
      stream.on('end', () => resolve('end'));
      stream.on('error', (err: ServiceError) => resolve(new GrpcCallError(err, 'Repeat')));
    });
    await firstSeen;
    const echoed = promisifyUnary(client, 'echo')(
      { text: 'in flight' },
      callMetadata({ tenantId: 'school-1' }),
    )
      .then((r) => r.text)
      .catch((err: unknown) => err);
    await inEcho;
    expect(handle.stopping.aborted).toBe(false);

    // A deadline far past the test's timeout: a stream holding the stop would fail the test.
    const stopped = handle.shutdown(10 * 60_000);
    expect(handle.stopping.aborted).toBe(true);
    const end = await ended;
    release();

    expect(end).toBeInstanceOf(GrpcCallError);
    expect([(end as GrpcCallError).code, (end as GrpcCallError).errorCode]).toEqual([
      status.UNAVAILABLE,
      'TEST_SERVER_STOPPING',
    ]);
    expect(seen).toEqual(['live']);
    expect(await echoed).toBe('in flight');
    await stopped;
  });
});
