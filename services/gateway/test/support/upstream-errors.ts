import { Metadata } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import type { AppError } from '@isams-sync/errors';
import { GrpcCallError } from '@isams-sync/grpc';
import { upstreamError } from '../../src/adapters/grpc-clients/upstream-call';

/**
 * An upstream service's refusal as the gateway's gRPC clients hand it on: the gRPC status `code`, the
 * stable `errorCode` and `details` as the service sends them, mapped by the real `upstreamError`.
 */
export function receivedFrom(
  upstream: string,
  code: number,
  errorCode: string,
  message: string,
  details?: object,
): AppError {
  const metadata = new Metadata();
  metadata.set('x-error-code', errorCode);
  if (details !== undefined) metadata.set('x-error-details-bin', Buffer.from(JSON.stringify(details)));
  const err = Object.assign(new Error(message), { code, details: message, metadata }) as ServiceError;
  return upstreamError(new GrpcCallError(err), upstream) as AppError;
}
