import { describe, expect, it } from 'vitest';
import {
  AppError,
  ERROR_KINDS,
  GrpcStatus,
  grpcStatusFor,
  httpStatusFor,
  kindForGrpcStatus,
} from '../src/index';
import type { ErrorKind } from '../src/index';

const err = (kind: ErrorKind) => new AppError({ code: 'TEST', kind, message: 'm' });

describe('status mapping', () => {
  it.each([
    ['invalid_argument', 400, GrpcStatus.INVALID_ARGUMENT],
    ['not_found', 404, GrpcStatus.NOT_FOUND],
    ['already_exists', 409, GrpcStatus.ALREADY_EXISTS],
    ['failed_precondition', 409, GrpcStatus.FAILED_PRECONDITION],
    ['permission_denied', 403, GrpcStatus.PERMISSION_DENIED],
    ['unauthenticated', 401, GrpcStatus.UNAUTHENTICATED],
    ['resource_exhausted', 429, GrpcStatus.RESOURCE_EXHAUSTED],
    ['unavailable', 503, GrpcStatus.UNAVAILABLE],
    ['deadline_exceeded', 504, GrpcStatus.DEADLINE_EXCEEDED],
    ['aborted', 409, GrpcStatus.ABORTED],
    ['cancelled', 499, GrpcStatus.CANCELLED],
    ['internal', 500, GrpcStatus.INTERNAL],
  ] as const)('%s → HTTP %i, gRPC %i', (kind, http, grpc) => {
    expect(httpStatusFor(err(kind))).toBe(http);
    expect(grpcStatusFor(err(kind))).toBe(grpc);
  });

  it('covers every kind', () => {
    for (const kind of ERROR_KINDS) {
      expect(httpStatusFor(err(kind))).toBeGreaterThanOrEqual(400);
      expect(kindForGrpcStatus(grpcStatusFor(err(kind)))).toBe(kind);
    }
  });

  it('maps unknown values to 500 / INTERNAL', () => {
    for (const value of [new Error('boom'), new TypeError('x'), 'string', undefined, { kind: 'not_found' }]) {
      expect(httpStatusFor(value)).toBe(500);
      expect(grpcStatusFor(value)).toBe(13);
    }
  });

  it('uses the numeric values of the gRPC spec', () => {
    expect(GrpcStatus).toMatchObject({
      OK: 0,
      NOT_FOUND: 5,
      INTERNAL: 13,
      UNAVAILABLE: 14,
      UNAUTHENTICATED: 16,
    });
  });

  it('maps received gRPC statuses back to kinds', () => {
    expect(kindForGrpcStatus(GrpcStatus.OUT_OF_RANGE)).toBe('invalid_argument');
    expect(kindForGrpcStatus(GrpcStatus.UNKNOWN)).toBe('internal');
    expect(kindForGrpcStatus(GrpcStatus.DATA_LOSS)).toBe('internal');
    expect(kindForGrpcStatus(999)).toBe('internal');
  });
});
