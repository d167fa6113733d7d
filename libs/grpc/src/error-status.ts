import { Metadata, status } from '@grpc/grpc-js';
import type { StatusObject } from '@grpc/grpc-js';
import { grpcStatusFor, isAppError, toPublicError } from '@isams-sync/errors';
import { ERROR_CODE_KEY, ERROR_DETAILS_KEY } from './call-metadata';

/**
 * The gRPC status a thrown value is sent as: the {@link AppError}'s kind decides the status code,
 * `x-error-code` carries its stable code and `x-error-details-bin` its JSON details. AppErrors of
 * kind `internal` and every other value become `INTERNAL` / `Internal error` / code `INTERNAL`, so no
 * stack, cause or driver message reaches the client.
 */
export function toGrpcStatus(err: unknown): StatusObject {
  const pub = toPublicError(err);
  const code = isAppError(err) && err.kind !== 'internal' ? grpcStatusFor(err) : status.INTERNAL;
  const metadata = new Metadata();
  metadata.set(ERROR_CODE_KEY, pub.code);
  if (pub.details !== undefined) {
    const json = safeJson(pub.details);
    if (json !== undefined) metadata.set(ERROR_DETAILS_KEY, Buffer.from(json, 'utf8'));
  }
  return { code, details: pub.message, metadata };
}

// Details are client-safe by contract, but a cyclic or BigInt value must not turn an error into a crash.
function safeJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

/** Decodes `x-error-details-bin` from trailing metadata; undefined when absent or not a JSON object. */
export function readErrorDetails(metadata: Metadata | undefined): Record<string, unknown> | undefined {
  const [raw] = metadata?.get(ERROR_DETAILS_KEY) ?? [];
  if (raw === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.isBuffer(raw) ? raw.toString('utf8') : raw);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
