import { ServerInterceptingCall } from '@grpc/grpc-js';
import type { Metadata, ServerInterceptor } from '@grpc/grpc-js';
import { AppError } from '@isams-sync/errors';
import type { Logger } from '@isams-sync/logger';
import { TENANT_INVALID, TENANT_REQUIRED } from './call-context';
import { TENANT_ID_KEY, isValidTenantId, metadataString } from './call-metadata';
import { toGrpcStatus } from './error-status';
import {
  AUTHORIZATION_KEY,
  IDENTITY_ERRORS,
  ServiceTokenError,
  verifyServiceToken,
} from './service-identity';
import type { ServiceKeyring, VerifiedCaller } from './service-identity';

/** Who may call a service's methods: the callers of every method, and per-method exceptions. */
export interface ServiceCallers {
  /** Calling services allowed on every method not listed in `methods`. */
  default: readonly string[];
  /** Per method (proto name, e.g. `RotateKeyEncryption`): the only callers allowed on it. */
  methods?: Readonly<Record<string, readonly string[]>>;
}

/** How one method path is guarded. */
export interface MethodAccess {
  callers: ReadonlySet<string>;
  /** The method does not act for one school: a tenant-free (`*`) token is accepted. */
  tenantFree: boolean;
}

/** Paths every caller reaches without a token: kubelet's native gRPC probes cannot send one. */
const OPEN_PREFIXES = ['/grpc.health.v1.Health/'];
/** Reflection (when enabled) needs a verified identity of any caller, but no school. */
const REFLECTION_PREFIXES = [
  '/grpc.reflection.v1.ServerReflection/',
  '/grpc.reflection.v1alpha.ServerReflection/',
];

const verifiedCallers = new WeakMap<Metadata, VerifiedCaller>();

/**
 * The caller verified by the {@link serviceAccessInterceptor} for the call whose (inbound) metadata
 * this is. Only the interceptor can record one, so a handler reading it knows the token was checked.
 */
export function verifiedCallerOf(metadata: Metadata): VerifiedCaller | undefined {
  return verifiedCallers.get(metadata);
}

function reject(
  code: string,
  kind: 'unauthenticated' | 'permission_denied' | 'invalid_argument',
  message: string,
  details?: Record<string, unknown>,
) {
  return new AppError({ code, kind, message, ...(details === undefined ? {} : { details }) });
}

/**
 * Decides an inbound call: verifies the bearer token, checks the caller against the method's
 * allow-list and the school against the method's kind, and checks that an `x-tenant-id` header (if
 * sent) names the token's school. Returns the verified caller, or throws the {@link AppError} to send.
 */
export function authorizeCall(
  keyring: ServiceKeyring,
  access: MethodAccess,
  method: string,
  metadata: Metadata,
  now?: () => number,
): VerifiedCaller {
  const header = metadataString(metadata, AUTHORIZATION_KEY) ?? '';
  const match = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(header);
  if (!match)
    throw reject(IDENTITY_ERRORS.missing, 'unauthenticated', 'A service identity (bearer token) is required');
  const caller = verifyServiceToken(keyring, match[1]!, method, now);
  if (!access.callers.has(caller.service))
    throw reject(
      IDENTITY_ERRORS.callerNotAllowed,
      'permission_denied',
      `Service "${caller.service}" may not call this method`,
    );
  if (caller.tenantId === undefined) {
    if (!access.tenantFree)
      throw reject(
        TENANT_REQUIRED,
        'invalid_argument',
        'This method acts for one school: the token names none',
        {
          key: TENANT_ID_KEY,
        },
      );
  } else if (!isValidTenantId(caller.tenantId)) {
    throw reject(TENANT_INVALID, 'invalid_argument', 'The token does not name a valid tenant id', {
      key: TENANT_ID_KEY,
    });
  }
  const claimed = metadataString(metadata, TENANT_ID_KEY);
  if (claimed !== undefined && claimed !== '' && claimed !== caller.tenantId)
    throw reject(
      IDENTITY_ERRORS.tenantMismatch,
      'permission_denied',
      `Metadata "${TENANT_ID_KEY}" names another school than the service token`,
    );
  return caller;
}

/**
 * The server interceptor that runs before every handler: health checks pass; everything else needs
 * a service token that {@link authorizeCall} accepts. A method without an entry in `methods` (or a
 * reflection call when `reflection` is off) is refused. On success the inbound `x-tenant-id` is set
 * to the verified school, so no code can read a different one.
 */
export function serviceAccessInterceptor(options: {
  keyring: ServiceKeyring;
  methods: ReadonlyMap<string, MethodAccess>;
  reflection: boolean;
  logger: Logger;
}): ServerInterceptor {
  const reflectionAccess: MethodAccess = {
    callers: new Set(options.keyring.verifying.keys()),
    tenantFree: true,
  };
  return (descriptor, call) => {
    const path = descriptor.path;
    if (OPEN_PREFIXES.some((p) => path.startsWith(p))) return new ServerInterceptingCall(call);
    const access = REFLECTION_PREFIXES.some((p) => path.startsWith(p))
      ? options.reflection
        ? reflectionAccess
        : undefined
      : options.methods.get(path);
    return new ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, nextMetadata) {
            try {
              if (access === undefined)
                throw reject(
                  IDENTITY_ERRORS.callerNotAllowed,
                  'permission_denied',
                  'Method is not open to callers',
                );
              const caller = authorizeCall(options.keyring, access, path, metadata);
              metadata.remove(TENANT_ID_KEY);
              if (caller.tenantId !== undefined) metadata.set(TENANT_ID_KEY, caller.tenantId);
              verifiedCallers.set(metadata, caller);
              nextMetadata(metadata);
            } catch (err) {
              const st = toGrpcStatus(err);
              options.logger.info(
                {
                  method: path,
                  errCode: err instanceof AppError ? err.code : 'INTERNAL',
                  // Which check failed stays here: the caller gets the generic status only.
                  reason: err instanceof ServiceTokenError ? err.reason : undefined,
                  claimedCaller: err instanceof ServiceTokenError ? err.claimedCaller : undefined,
                  grpcCode: st.code,
                },
                'gRPC call refused',
              );
              call.sendStatus(st);
            }
          },
        });
      },
    });
  };
}
