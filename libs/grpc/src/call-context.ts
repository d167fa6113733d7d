import type { Metadata, ServerUnaryCall, ServerWritableStream } from '@grpc/grpc-js';
import { AppError } from '@isams-sync/errors';
import type { Logger } from '@isams-sync/logger';
import { REQUEST_ID_KEY, metadataString, normaliseRequestId, readActor } from './call-metadata';

/** What a wrapped handler knows about the call it serves. */
export interface CallContext {
  /** The school the call acts for: the `sub` of the verified service token (never a bare header). */
  tenantId: string;
  /** The calling service, from its verified service token (`gateway`, `bookings`, `operator`…). */
  caller: string;
  /** From `x-request-id`, or generated; echoed to the client in the trailing metadata. */
  requestId: string;
  /** The admin identity making the call (`x-actor`, decoded), when given. */
  actor?: string;
  /** Full method path, e.g. `/isams_sync.roster.v1.RosterService/GetPerson`. */
  method: string;
  /** Child logger bound to `tenantId`, `requestId` and `method`. */
  logger: Logger;
  /** The client's deadline, if it set one. */
  deadline?: Date;
  /** Aborted when the client cancels or the deadline passes; pass it to I/O that accepts one. */
  signal: AbortSignal;
  /** The raw inbound metadata. */
  metadata: Metadata;
}

/** The context of a tenant-free method: `tenantId` is only present when the caller sent one. */
export type TenantFreeCallContext = Omit<CallContext, 'tenantId'> & { tenantId?: string };

/** Sent as `INVALID_ARGUMENT` when a tenant-scoped method is called with a token naming no school. */
export const TENANT_REQUIRED = 'GRPC_TENANT_REQUIRED';
/** Sent as `INVALID_ARGUMENT` when the token's school is not a well-formed tenant id. */
export const TENANT_INVALID = 'GRPC_TENANT_INVALID';

/** A context plus the cleanup to run when the call ends. */
export interface OpenedContext {
  context: TenantFreeCallContext;
  close(): void;
}

/**
 * Builds the call context (without tenant validation: the caller does that first so a bad tenant is
 * reported with the request id). The signal aborts on client cancel and at the deadline; grpc-js
 * sends DEADLINE_EXCEEDED itself, the timer only tells the handler to stop working.
 */
export function openCallContext(
  call: ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>,
  baseLogger: Logger,
  tenantId: string | undefined,
  requestId: string,
  caller: string,
): OpenedContext {
  const method = call.getPath();
  const actor = readActor(call.metadata);
  const controller = new AbortController();
  const onCancel = () => {
    if (!controller.signal.aborted) {
      controller.abort(
        new AppError({ code: 'GRPC_CALL_CANCELLED', kind: 'cancelled', message: 'Call cancelled' }),
      );
    }
  };
  call.on('cancelled', onCancel);

  const rawDeadline = call.getDeadline();
  const deadlineMs = rawDeadline instanceof Date ? rawDeadline.getTime() : rawDeadline;
  const deadline = Number.isFinite(deadlineMs) ? new Date(deadlineMs) : undefined;
  let timer: NodeJS.Timeout | undefined;
  if (deadline !== undefined) {
    timer = setTimeout(
      () =>
        controller.signal.aborted ||
        controller.abort(
          new AppError({
            code: 'GRPC_DEADLINE_EXCEEDED',
            kind: 'deadline_exceeded',
            message: 'Deadline exceeded',
          }),
        ),
      Math.max(0, deadline.getTime() - Date.now()),
    );
    timer.unref();
  }

  const bindings: Record<string, string> = { requestId, method, caller };
  if (tenantId !== undefined) bindings.tenantId = tenantId;
  const context: TenantFreeCallContext = {
    requestId,
    method,
    caller,
    logger: baseLogger.child(bindings),
    signal: controller.signal,
    metadata: call.metadata,
  };
  if (tenantId !== undefined) context.tenantId = tenantId;
  if (actor !== undefined) context.actor = actor;
  if (deadline !== undefined) context.deadline = deadline;

  return {
    context,
    close() {
      if (timer !== undefined) clearTimeout(timer);
      call.removeListener('cancelled', onCancel);
    },
  };
}

/** The request id of an inbound call (normalised). */
export function readRequestId(metadata: Metadata): string {
  return normaliseRequestId(metadataString(metadata, REQUEST_ID_KEY));
}
