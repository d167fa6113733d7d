import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServiceConfig, callMetadata, createGrpcClient, GrpcCallError, promisifyUnary } from '../src';
import type { GrpcServerHandle } from '../src';
import { echoIdentity, loadEchoPackage, startEchoServer } from './helpers/echo-service';
import type { EchoState } from './helpers/echo-service';

const EchoService = loadEchoPackage().isams_sync.testing.v1.EchoService;
let handle: GrpcServerHandle;
let state: EchoState;
let address: string;

beforeAll(async () => {
  ({ handle, state, address } = await startEchoServer());
});
afterAll(() => handle.shutdown(1000));

type FailOptions = { idempotentMethods: string[]; maxAttempts?: number };
type FailRequest = { mode: string; key: string };

/** Calls `Fail` once through a fresh client of the echo server (closed afterwards) with `options`. */
async function callFail(options: FailOptions, request: FailRequest) {
  const client = createGrpcClient(EchoService, address, { identity: echoIdentity(), ...options });
  try {
    return await promisifyUnary(client, 'fail')(request, callMetadata({ tenantId: 'school-1' }));
  } finally {
    client.close();
  }
}

describe('createGrpcClient retries', () => {
  it('retries an idempotent method that first returns UNAVAILABLE', async () => {
    const res = await callFail(
      { idempotentMethods: ['Fail'], maxAttempts: 3 },
      { mode: 'MODE_UNAVAILABLE_ONCE', key: 'retry-1' },
    );
    expect(res.text).toBe('ok after 2');
    expect(state.attempts.get('retry-1')).toBe(2);
  });

  it.each<[string, { options: FailOptions; request: FailRequest; failure: Partial<GrpcCallError> }]>([
    [
      'a method not declared idempotent',
      {
        options: { idempotentMethods: ['Echo'] },
        request: { mode: 'MODE_UNAVAILABLE_ONCE', key: 'retry-2' },
        failure: { code: status.UNAVAILABLE, errorCode: 'TEST_BUSY' },
      },
    ],
    [
      'non-UNAVAILABLE failures of idempotent methods',
      {
        options: { idempotentMethods: ['Fail'] },
        request: { mode: 'MODE_APP_ERROR', key: 'retry-3' },
        failure: { code: status.NOT_FOUND },
      },
    ],
  ])('does not retry %s', async (_name, { options, request, failure }) => {
    const err = await callFail(options, request).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GrpcCallError);
    expect(err).toMatchObject(failure);
    expect(state.attempts.get(request.key)).toBe(1);
  });

  it('reports an unreachable server as UNAVAILABLE with code GRPC_UNAVAILABLE', async () => {
    const client = createGrpcClient(EchoService, '127.0.0.1:1', {
      identity: echoIdentity(),
      idempotentMethods: ['Echo'],
      deadlineMs: 5000,
    });
    try {
      const err = await promisifyUnary(client, 'echo')(
        { text: 'x' },
        callMetadata({ tenantId: 'school-1' }),
      ).catch((e: unknown) => e);
      expect((err as GrpcCallError).code).toBe(status.UNAVAILABLE);
      expect((err as GrpcCallError).errorCode).toBe('GRPC_UNAVAILABLE');
      expect((err as GrpcCallError).toAppError().kind).toBe('unavailable');
    } finally {
      client.close();
    }
  });
});

describe('buildServiceConfig', () => {
  it('puts a retry policy on idempotent methods only and a timeout on all', () => {
    expect(
      buildServiceConfig(EchoService.service, { deadlineMs: 1500, idempotentMethods: ['Echo', 'slow'] }),
    ).toEqual({
      methodConfig: [
        {
          name: [
            { service: 'isams_sync.testing.v1.EchoService', method: 'Echo' },
            { service: 'isams_sync.testing.v1.EchoService', method: 'Slow' },
          ],
          timeout: '1.500000000s',
          waitForReady: false,
          retryPolicy: {
            maxAttempts: 3,
            initialBackoff: '0.100000000s',
            maxBackoff: '1.000000000s',
            backoffMultiplier: 2,
            retryableStatusCodes: ['UNAVAILABLE'],
          },
        },
        {
          name: [{ service: 'isams_sync.testing.v1.EchoService' }],
          timeout: '1.500000000s',
          waitForReady: false,
        },
      ],
    });
  });

  it('rejects an unknown idempotent method name', () => {
    expect(() => buildServiceConfig(EchoService.service, { idempotentMethods: ['Nope'] })).toThrow(
      /Unknown method "Nope"/,
    );
  });
});
