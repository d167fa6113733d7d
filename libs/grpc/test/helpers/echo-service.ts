import { credentials } from '@grpc/grpc-js';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import type {
  Client,
  ClientReadableStream,
  Metadata,
  requestCallback,
  ClientUnaryCall,
  CallOptions,
} from '@grpc/grpc-js';
import { AppError } from '@isams-sync/errors';
import { createLogger } from '@isams-sync/logger';
import type { Logger } from '@isams-sync/logger';
import {
  createGrpcServer,
  generateServiceKeys,
  loadProtoPackage,
  serverStreaming,
  serviceKeyringFrom,
  unary,
} from '../../src';
import type { ClientIdentity, GrpcClientConstructor, GrpcServerHandle, ReadinessSignal } from '../../src';
import type { CallContext } from '../../src';

export const ECHO_SERVICE = 'isams_sync.testing.v1.EchoService';
export const ECHO_PROTO = fileURLToPath(new URL('../fixtures/echo.proto', import.meta.url));

export interface EchoResponse {
  text: string;
  tenantId: string;
  requestId: string;
  actor: string;
  index: number;
  big: string;
  note?: string;
  number?: number;
  extra?: 'note' | 'number';
}

type Unary<Req> = (argument: Req, callback: requestCallback<EchoResponse>) => ClientUnaryCall;
type UnaryFull<Req> = (
  argument: Req,
  metadata: Metadata,
  options: CallOptions,
  callback: requestCallback<EchoResponse>,
) => ClientUnaryCall;

/** Hand-written client type of the test-only EchoService (fixture protos are not code-generated). */
export interface EchoClient extends Client {
  echo: UnaryFull<{ text?: string }> & Unary<{ text?: string }>;
  fail: UnaryFull<{ mode?: string; key?: string }> & Unary<{ mode?: string; key?: string }>;
  slow: UnaryFull<{ delayMs?: number }> & Unary<{ delayMs?: number }>;
  ping: UnaryFull<object> & Unary<object>;
  repeat(
    argument: { count?: number; text?: string },
    metadata: Metadata,
    options?: CallOptions,
  ): ClientReadableStream<EchoResponse>;
}

interface EchoPackage {
  isams_sync: { testing: { v1: { EchoService: GrpcClientConstructor<EchoClient> } } };
}

/**
 * Keys of the test pairs: `gateway` may call every echo method, `operator` only the tenant-free
 * Ping, `bookings` nothing (it holds a key, so it has a valid identity that the allow-list refuses).
 */
export const ECHO_KEYS = generateServiceKeys([
  ['gateway', 'echo'],
  ['operator', 'echo'],
  ['bookings', 'echo'],
]);
export const ECHO_CALLERS = { default: ['gateway'], methods: { Ping: ['gateway', 'operator'] } };

/** The identity a test client calls the echo server with (default: `gateway`). */
export function echoIdentity(as = 'gateway'): ClientIdentity {
  return { keyring: serviceKeyringFrom(as, ECHO_KEYS), audience: 'echo' };
}

export function loadEchoPackage(): EchoPackage {
  return loadProtoPackage<EchoPackage>(ECHO_PROTO);
}

/** A bare grpc-js echo client (no library helpers, no service identity) of the server at `address`. */
export function bareEchoClient(address: string): EchoClient {
  return new (loadEchoPackage().isams_sync.testing.v1.EchoService)(address, credentials.createInsecure());
}

/** A logger whose JSON lines are collected in `lines`. */
export function captureLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line.trim() !== '') lines.push(JSON.parse(line));
      cb();
    },
  });
  return { logger: createLogger({ service: 'grpc-test', level: 'debug', destination }), lines };
}

function respond(
  ctx: Pick<CallContext, 'requestId' | 'actor'> & { tenantId?: string },
  text: string,
  index = 0,
): EchoResponse {
  return {
    text,
    tenantId: ctx.tenantId ?? '',
    requestId: ctx.requestId,
    actor: ctx.actor ?? '',
    index,
    big: '9007199254740993',
    note: 'n',
  } as EchoResponse;
}

/** Observable server-side state of the echo service. */
export interface EchoState {
  attempts: Map<string, number>;
  slowStarted: Array<() => void>;
  lastSlowSignal?: AbortSignal;
  slowAborted: Promise<unknown>;
}

export async function startEchoServer(
  logger: Logger = captureLogger().logger,
  options: {
    reflection?: boolean;
    readiness?: ReadinessSignal;
    /** Handlers that replace the echo service's own (e.g. a `Fail` that throws what a test needs). */
    handlers?: Record<string, unknown>;
  } = {},
): Promise<{ handle: GrpcServerHandle; state: EchoState; address: string }> {
  const pkg = loadEchoPackage();
  let resolveAborted!: (reason: unknown) => void;
  const state: EchoState = {
    attempts: new Map(),
    slowStarted: [],
    slowAborted: new Promise((r) => (resolveAborted = r)),
  };
  const implementation = {
    Echo: unary<{ text: string }, EchoResponse>((req, ctx) => respond(ctx, req.text)),
    Fail: unary<{ mode: string; key: string }, EchoResponse>(async (req, ctx) => {
      const n = (state.attempts.get(req.key) ?? 0) + 1;
      state.attempts.set(req.key, n);
      switch (req.mode) {
        case 'MODE_APP_ERROR':
          throw new AppError({
            code: 'TEST_THING_NOT_FOUND',
            kind: 'not_found',
            message: 'Thing t1 not found',
            details: { thingId: 't1' },
          });
        case 'MODE_INTERNAL_APP_ERROR':
          throw new AppError({
            code: 'TEST_DB_BROKEN',
            kind: 'internal',
            message: 'mongo at 10.0.0.5 refused secret-stuff',
          });
        case 'MODE_UNAVAILABLE_ONCE':
          if (n === 1) throw new AppError({ code: 'TEST_BUSY', kind: 'unavailable', message: 'Try again' });
          return respond(ctx, `ok after ${n}`);
        default:
          throw new Error('driver said: password=hunter2 at db-host');
      }
    }),
    Slow: unary<{ delayMs: number }, EchoResponse>(async (req, ctx) => {
      state.lastSlowSignal = ctx.signal;
      ctx.signal.addEventListener('abort', () => resolveAborted(ctx.signal.reason), { once: true });
      for (const started of state.slowStarted.splice(0)) started();
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, req.delayMs);
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(t);
          resolve();
        });
      });
      return respond(ctx, 'slow done');
    }),
    Ping: unary<object, EchoResponse>((_req, ctx) => respond(ctx, 'pong'), { tenantFree: true }),
    Repeat: serverStreaming<{ count: number; text: string }, EchoResponse>(async (req, ctx, send) => {
      for (let i = 0; i < req.count; i++) await send(respond(ctx, req.text, i));
      if (req.text === 'boom')
        throw new AppError({ code: 'TEST_STREAM_BROKE', kind: 'aborted', message: 'Stream broke' });
    }),
  };
  const handle = await createGrpcServer({
    logger,
    port: 0,
    host: '127.0.0.1',
    identity: serviceKeyringFrom('echo', ECHO_KEYS),
    ...(options.reflection === undefined ? {} : { reflection: options.reflection }),
    ...(options.readiness === undefined ? {} : { readiness: options.readiness }),
    services: [
      {
        name: ECHO_SERVICE,
        definition: pkg.isams_sync.testing.v1.EchoService.service,
        implementation: { ...implementation, ...options.handlers },
        callers: ECHO_CALLERS,
      },
    ],
  });
  return { handle, state, address: `127.0.0.1:${handle.port}` };
}

/** Resolves when the next Slow call has reached its handler. */
export function nextSlowStart(state: EchoState): Promise<void> {
  return new Promise((resolve) => state.slowStarted.push(resolve));
}
