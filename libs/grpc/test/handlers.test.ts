import { Metadata, status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  callMetadata,
  callUnary,
  createGrpcClient,
  ERROR_CODE_KEY,
  GrpcCallError,
  promisifyUnary,
  REQUEST_ID_KEY,
  TENANT_ID_KEY,
} from '../src';
import type { GrpcServerHandle } from '../src';
import { captureLogger, echoIdentity, loadEchoPackage, startEchoServer } from './helpers/echo-service';
import type { EchoClient, EchoResponse, EchoState } from './helpers/echo-service';

let handle: GrpcServerHandle;
let state: EchoState;
let client: EchoClient;
let lines: Array<Record<string, unknown>>;

beforeAll(async () => {
  const captured = captureLogger();
  lines = captured.lines;
  ({ handle, state } = await startEchoServer(captured.logger));
  client = createGrpcClient(loadEchoPackage().isams_sync.testing.v1.EchoService, `127.0.0.1:${handle.port}`, {
    identity: echoIdentity(),
  });
});
afterAll(async () => {
  client.close();
  await handle.shutdown(1000);
});

async function failure(p: Promise<unknown>): Promise<GrpcCallError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GrpcCallError);
  return err as GrpcCallError;
}

describe('call context', () => {
  it('propagates tenant, request id and actor to the handler', async () => {
    const echo = promisifyUnary(client, 'echo');
    const res = await echo(
      { text: 'hi' },
      callMetadata({ tenantId: 'school-42', requestId: 'req-1', actor: 'admin:7' }),
    );
    expect(res).toMatchObject({ text: 'hi', tenantId: 'school-42', requestId: 'req-1', actor: 'admin:7' });
    // proto conventions: int64 as string, oneof member named
    expect(res.big).toBe('9007199254740993');
    expect(res.extra).toBe('note');
  });

  it('carries a non-ASCII actor to the handler decoded', async () => {
    const echo = promisifyUnary(client, 'echo');
    const res = await echo(
      { text: 'hi' },
      callMetadata({ tenantId: 'school-42', actor: 'jwt:josé@school-a.example' }),
    );
    expect(res).toMatchObject({ text: 'hi', tenantId: 'school-42', actor: 'jwt:josé@school-a.example' });
  });

  it('generates a request id when missing and echoes it in the trailing metadata', async () => {
    const md = new Metadata();
    md.set(TENANT_ID_KEY, 'school-42');
    let trailer!: Promise<string>;
    const res = await new Promise<EchoResponse>((resolve, reject) => {
      const call = client.echo({ text: 'x' }, md, {}, (err, r) => (err ? reject(err) : resolve(r!)));
      trailer = new Promise<string>((done) =>
        call.on('status', (st: { metadata: Metadata }) => done(String(st.metadata.get(REQUEST_ID_KEY)[0]))),
      );
    });
    const echoed = { header: await trailer, res };
    expect(echoed.res.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(echoed.header).toBe(echoed.res.requestId);
  });

  it('rejects a call without x-tenant-id with INVALID_ARGUMENT and GRPC_TENANT_REQUIRED', async () => {
    const err = await failure(callUnary(client.echo.bind(client), { text: 'x' }, callMetadata({})));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.errorCode).toBe('GRPC_TENANT_REQUIRED');
    expect(err.details).toEqual({ key: TENANT_ID_KEY });
  });

  it('rejects a malformed tenant id with GRPC_TENANT_INVALID', async () => {
    const err = await failure(
      callUnary(client.echo.bind(client), { text: 'x' }, callMetadata({ tenantId: '../etc; drop' })),
    );
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.errorCode).toBe('GRPC_TENANT_INVALID');
  });

  it('serves a tenant-free method without a tenant, but still validates one when sent', async () => {
    const ping = promisifyUnary(client, 'ping');
    await expect(ping({}, callMetadata({}))).resolves.toMatchObject({ text: 'pong', tenantId: '' });
    await expect(ping({}, callMetadata({ tenantId: 'school-1' }))).resolves.toMatchObject({
      tenantId: 'school-1',
    });
    const err = await failure(ping({}, callMetadata({ tenantId: 'bad tenant!' })));
    expect(err.errorCode).toBe('GRPC_TENANT_INVALID');
  });
});

describe('error mapping', () => {
  const fail = (mode: string) =>
    failure(callUnary(client.fail.bind(client), { mode, key: mode }, callMetadata({ tenantId: 'school-1' })));

  it('maps an AppError to its status with code and details in trailing metadata', async () => {
    const err = await fail('MODE_APP_ERROR');
    expect(err.code).toBe(status.NOT_FOUND);
    expect(err.errorCode).toBe('TEST_THING_NOT_FOUND');
    expect(err.grpcMessage).toBe('Thing t1 not found');
    expect(err.details).toEqual({ thingId: 't1' });
    expect(err.metadata?.get(ERROR_CODE_KEY)).toEqual(['TEST_THING_NOT_FOUND']);
    const app = err.toAppError();
    expect(app).toMatchObject({
      code: 'TEST_THING_NOT_FOUND',
      kind: 'not_found',
      details: { thingId: 't1' },
    });
  });

  it('maps an unknown error to INTERNAL without leaking its message, and logs it with err', async () => {
    const err = await fail('MODE_PLAIN_ERROR');
    expect(err.code).toBe(status.INTERNAL);
    expect(err.errorCode).toBe('INTERNAL');
    expect(err.grpcMessage).toBe('Internal error');
    expect(err.message).not.toContain('hunter2');
    const logged = lines.find((l) => l.msg === 'gRPC call failed' && l.grpcCode === status.INTERNAL);
    expect(logged).toMatchObject({ tenantId: 'school-1', method: '/isams_sync.testing.v1.EchoService/Fail' });
    expect(logged?.err).toBeDefined();
  });

  it('maps an AppError of kind internal to INTERNAL without its message', async () => {
    const err = await fail('MODE_INTERNAL_APP_ERROR');
    expect(err.code).toBe(status.INTERNAL);
    expect(err.errorCode).toBe('INTERNAL');
    expect(err.grpcMessage).toBe('Internal error');
  });
});

describe('deadlines', () => {
  it('surfaces DEADLINE_EXCEEDED to the client and aborts the handler signal', async () => {
    const err = await failure(
      callUnary(client.slow.bind(client), { delayMs: 30_000 }, callMetadata({ tenantId: 'school-1' }), {
        deadlineMs: 100,
      }),
    );
    expect(err.code).toBe(status.DEADLINE_EXCEEDED);
    expect(err.kind).toBe('deadline_exceeded');
    await state.slowAborted;
    expect(state.lastSlowSignal?.aborted).toBe(true);
  });

  it('applies the client default deadline to calls that set none', async () => {
    const short = createGrpcClient(
      loadEchoPackage().isams_sync.testing.v1.EchoService,
      `127.0.0.1:${handle.port}`,
      {
        identity: echoIdentity(),
        deadlineMs: 100,
      },
    );
    try {
      const err = await failure(
        promisifyUnary(short, 'slow')({ delayMs: 30_000 }, callMetadata({ tenantId: 'school-1' })),
      );
      expect(err.code).toBe(status.DEADLINE_EXCEEDED);
    } finally {
      short.close();
    }
  });

  it('cancels the call when the given signal aborts', async () => {
    const controller = new AbortController();
    const p = callUnary(
      client.slow.bind(client),
      { delayMs: 30_000 },
      callMetadata({ tenantId: 'school-1' }),
      {
        signal: controller.signal,
      },
    );
    setImmediate(() => controller.abort());
    const err = await failure(p);
    expect(err.code).toBe(status.CANCELLED);
  });
});

describe('server streaming', () => {
  function collect(
    count: number,
    text: string,
    md: Metadata,
  ): Promise<{ items: EchoResponse[]; error?: ServiceError }> {
    return new Promise((resolve) => {
      const items: EchoResponse[] = [];
      const stream = client.repeat({ count, text }, md);
      stream.on('data', (m: EchoResponse) => items.push(m));
      stream.on('error', (error: ServiceError) => resolve({ items, error }));
      stream.on('end', () => resolve({ items }));
    });
  }

  it('streams every message with the call context', async () => {
    const { items, error } = await collect(3, 'r', callMetadata({ tenantId: 'school-9' }));
    expect(error).toBeUndefined();
    expect(items.map((i) => [i.index, i.tenantId])).toEqual([
      [0, 'school-9'],
      [1, 'school-9'],
      [2, 'school-9'],
    ]);
  });

  it('ends the stream with the mapped status when the handler throws, or the tenant is missing', async () => {
    const broke = await collect(2, 'boom', callMetadata({ tenantId: 'school-9' }));
    expect(broke.items).toHaveLength(2);
    expect(broke.error?.code).toBe(status.ABORTED);
    expect(broke.error?.metadata.get(ERROR_CODE_KEY)).toEqual(['TEST_STREAM_BROKE']);

    const noTenant = await collect(2, 'r', callMetadata({}));
    expect(noTenant.items).toHaveLength(0);
    expect(noTenant.error?.code).toBe(status.INVALID_ARGUMENT);
  });
});
