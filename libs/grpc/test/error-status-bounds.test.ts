import { status } from '@grpc/grpc-js';
import { AppError } from '@isams-sync/errors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  callMetadata,
  callUnary,
  createGrpcClient,
  ERROR_DETAILS_KEY,
  GrpcCallError,
  MAX_ERROR_DETAILS_BYTES,
  MAX_STATUS_MESSAGE_CHARS,
  serverStreaming,
  toGrpcStatus,
  unary,
} from '../src';
import type { GrpcServerHandle } from '../src';
import { captureLogger, echoIdentity, loadEchoPackage, startEchoServer } from './helpers/echo-service';
import type { EchoClient, EchoResponse } from './helpers/echo-service';

// Audit s51 #1: an error listing thousands of problems (every bad entry of a 20,000-item request) put
// its whole message in `grpc-message` and its whole details in `x-error-details-bin`; past ~64 KB of
// trailers the client reset the stream and saw `INTERNAL` "Received RST_STREAM … Protocol error"
// instead of the error. The status must reach the client whatever the size of the error.

/** An INVALID_ARGUMENT listing `n` problems, the way a request parser builds one. */
function manyProblems(n: number, problem = 'pupil, staff or contact'): AppError {
  const fields = Array.from({ length: n }, (_, i) => ({ field: `removals[${i}].kind`, problem }));
  return new AppError({
    code: 'TEST_INVALID_REQUEST',
    kind: 'invalid_argument',
    message: `Invalid request: ${fields.map((f) => `${f.field}: ${f.problem}`).join('; ')}`,
    details: { fields },
  });
}

/** What the Fail handler throws, by the request's `key`. */
const THROWN: Record<string, () => unknown> = {
  many: () => manyProblems(5000),
  accented: () => manyProblems(3000, 'élève inconnu — 👩‍🏫 ✓'),
  'lone-surrogate': () =>
    new AppError({ code: 'TEST_ODD_TEXT', kind: 'not_found', message: `Person a\uD800b not found` }),
  'huge-string-detail': () =>
    new AppError({
      code: 'TEST_BIG_DETAIL',
      kind: 'failed_precondition',
      message: 'Too big',
      details: { note: 'x'.repeat(200_000) },
    }),
};

let handle: GrpcServerHandle;
let client: EchoClient;

beforeAll(async () => {
  ({ handle } = await startEchoServer(captureLogger().logger, {
    handlers: {
      Fail: unary<{ key: string }, EchoResponse>((req) => {
        throw THROWN[req.key]!();
      }),
      Repeat: serverStreaming<{ count: number }, EchoResponse>(() => Promise.reject(manyProblems(5000))),
    },
  }));
  client = createGrpcClient(loadEchoPackage().isams_sync.testing.v1.EchoService, `127.0.0.1:${handle.port}`, {
    identity: echoIdentity(),
  });
});
afterAll(async () => {
  client.close();
  await handle.shutdown(1000);
});

async function failWith(key: string): Promise<GrpcCallError> {
  const err = await callUnary(client.fail.bind(client), { key }, callMetadata({ tenantId: 'school-1' })).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GrpcCallError);
  return err as GrpcCallError;
}

describe('error statuses are bounded so that they reach the client', () => {
  it('sends an error listing 5000 problems with its code, the first problems and how much was left out', async () => {
    const err = await failWith('many');
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.errorCode).toBe('TEST_INVALID_REQUEST');
    expect(encodeURI(err.grpcMessage).length).toBeLessThanOrEqual(MAX_STATUS_MESSAGE_CHARS);
    expect(err.grpcMessage).toMatch(
      /^Invalid request: removals\[0\]\.kind: pupil, staff or contact; removals\[1\]\.kind: .*… \(\d+ more characters not sent\)$/,
    );
    const fields = err.details?.fields as unknown[];
    expect(fields[0]).toEqual({ field: 'removals[0].kind', problem: 'pupil, staff or contact' });
    expect(fields.length).toBeGreaterThan(10);
    expect(err.details).toMatchObject({ truncated: true, omitted: { fields: 5000 - fields.length } });
    const [raw] = err.metadata!.get(ERROR_DETAILS_KEY);
    expect((raw as Buffer).length).toBeLessThanOrEqual(MAX_ERROR_DETAILS_BYTES);
  });

  it('bounds a non-ASCII message by its encoded size without splitting a character', async () => {
    const err = await failWith('accented');
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(encodeURI(err.grpcMessage).length).toBeLessThanOrEqual(MAX_STATUS_MESSAGE_CHARS);
    expect(err.grpcMessage).toMatch(/^Invalid request: removals\[0\]\.kind: élève inconnu — 👩‍🏫 ✓; /);
    expect(err.grpcMessage).toMatch(/… \(\d+ more characters not sent\)$/);
    expect((err.details?.fields as unknown[])[0]).toEqual({
      field: 'removals[0].kind',
      problem: 'élève inconnu — 👩‍🏫 ✓',
    });
  });

  it('sends a message holding a lone surrogate with U+FFFD in its place', async () => {
    const err = await failWith('lone-surrogate');
    expect(err.code).toBe(status.NOT_FOUND);
    expect(err.errorCode).toBe('TEST_ODD_TEXT');
    expect(err.grpcMessage).toBe('Person a\uFFFDb not found');
  });

  it('drops details that cannot be shortened to fit, keeping code and message', async () => {
    const err = await failWith('huge-string-detail');
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.errorCode).toBe('TEST_BIG_DETAIL');
    expect(err.grpcMessage).toBe('Too big');
    expect(err.details).toEqual({ truncated: true });
  });

  it('ends a server stream with a bounded status too', async () => {
    const stream = client.repeat({ count: 1 }, callMetadata({ tenantId: 'school-1' }));
    const outcome = await new Promise<{ code: number; details: string }>((resolve) => {
      stream.on('data', () => undefined);
      stream.on('error', (e: { code: number; details: string }) => resolve(e));
    });
    expect(outcome.code).toBe(status.INVALID_ARGUMENT);
    expect(outcome.details).toMatch(/^Invalid request: removals\[0\]\.kind: .*more characters not sent\)$/);
  });
});

describe('toGrpcStatus', () => {
  it('leaves a small error as it is', () => {
    const st = toGrpcStatus(manyProblems(2));
    expect(st.details).toBe(
      'Invalid request: removals[0].kind: pupil, staff or contact; removals[1].kind: pupil, staff or contact',
    );
    const [raw] = st.metadata.get(ERROR_DETAILS_KEY);
    expect(JSON.parse((raw as Buffer).toString('utf8'))).toEqual({
      fields: [
        { field: 'removals[0].kind', problem: 'pupil, staff or contact' },
        { field: 'removals[1].kind', problem: 'pupil, staff or contact' },
      ],
    });
  });

  it('shortens every top-level list of oversized details and counts what each lost', () => {
    const st = toGrpcStatus(
      new AppError({
        code: 'TEST_MANY',
        kind: 'invalid_argument',
        message: 'Many',
        details: {
          batchId: 'b-1',
          a: Array.from({ length: 400 }, (_, i) => i),
          b: Array(400).fill('y'.repeat(20)),
        },
      }),
    );
    const [raw] = st.metadata.get(ERROR_DETAILS_KEY);
    expect((raw as Buffer).length).toBeLessThanOrEqual(MAX_ERROR_DETAILS_BYTES);
    const details = JSON.parse((raw as Buffer).toString('utf8')) as {
      batchId: string;
      a: number[];
      b: string[];
      omitted: Record<string, number>;
    };
    expect(details.batchId).toBe('b-1');
    expect(details.a.slice(0, 3)).toEqual([0, 1, 2]);
    expect(details.a.length + (details.omitted.a ?? 0)).toBe(400);
    expect(details.b.length + (details.omitted.b ?? 0)).toBe(400);
  });
  it('a list item too big to send is left out, counted, and the items after it that fit are still sent', () => {
    const st = toGrpcStatus(
      new AppError({
        code: 'TEST_ONE_HUGE',
        kind: 'invalid_argument',
        message: 'Invalid request',
        details: {
          fields: [
            { field: 'note', problem: 'x'.repeat(5000) },
            { field: 'removals[0].id', problem: 'required' },
            { field: 'removals[1].id', problem: 'required' },
          ],
        },
      }),
    );
    const [raw] = st.metadata.get(ERROR_DETAILS_KEY);
    expect((raw as Buffer).length).toBeLessThanOrEqual(MAX_ERROR_DETAILS_BYTES);
    expect(JSON.parse((raw as Buffer).toString('utf8'))).toEqual({
      fields: [
        { field: 'removals[0].id', problem: 'required' },
        { field: 'removals[1].id', problem: 'required' },
      ],
      truncated: true,
      omitted: { fields: 1 },
    });
  });
});
