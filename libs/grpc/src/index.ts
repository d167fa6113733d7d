/**
 * `@isams-sync/grpc` — the gRPC conventions of isams-sync: proto loading, a server bootstrap with
 * health/reflection/graceful shutdown and a service-identity check before every call, handler
 * wrappers that build a tenant-aware call context (the school from the verified service token) and
 * map errors to statuses, and a client factory with service tokens, deadlines and safe retries. Generated proto
 * types are exported per package namespace (`commonV1`, …).
 * @packageDocumentation
 */
export {
  ACTOR_KEY,
  ERROR_CODE_KEY,
  ERROR_DETAILS_KEY,
  REQUEST_ID_KEY,
  TENANT_ID_KEY,
  TENANT_ID_PATTERN,
  callMetadata,
  isValidTenantId,
} from './call-metadata';
export type { CallMetadataInput } from './call-metadata';
export { TENANT_INVALID, TENANT_REQUIRED } from './call-context';
export type { CallContext, TenantFreeCallContext } from './call-context';
export {
  MAX_ERROR_DETAILS_BYTES,
  MAX_STATUS_MESSAGE_CHARS,
  boundErrorDetails,
  boundStatusMessage,
  readErrorDetails,
  toGrpcStatus,
} from './error-status';
export { unary, serverStreaming, isWrappedHandler } from './handlers';
export type { MethodOptions, TenantFreeMethodOptions, StreamSend, WrappedHandler } from './handlers';
export {
  PROTO_LOADER_OPTIONS,
  loadProtoDefinition,
  loadProtoPackage,
  resolveProtosDir,
} from './proto-loader';
export type { ProtosDirOptions } from './proto-loader';
export {
  GRPC_SERVER_LIMITS,
  HEALTH_SERVICE_NAME,
  LIVENESS_HEALTH_NAME,
  createGrpcServer,
} from './grpc-server';
export type {
  GrpcServerHandle,
  GrpcServerOptions,
  GrpcServiceRegistration,
  ReadinessSignal,
} from './grpc-server';
export {
  GRPC_CLIENT_LIMITS,
  GrpcCallError,
  buildServiceConfig,
  serviceTokenInterceptor,
  callUnary,
  createGrpcClient,
  isServiceError,
  promisifyUnary,
} from './grpc-client';
export type {
  ClientIdentity,
  GrpcClientConstructor,
  GrpcClientOptions,
  UnaryCallOptions,
  UnaryMethod,
} from './grpc-client';
export {
  ANY_TENANT,
  AUTHORIZATION_KEY,
  IDENTITY_ERRORS,
  SERVICE_CALLS,
  SERVICE_NAME_PATTERN,
  generateServiceKeys,
  loadServiceKeyring,
  mintServiceToken,
  parseKeyFile,
  serviceKeyFileName,
  serviceKeyringFrom,
  ServiceTokenError,
  verifyServiceToken,
  writeServiceKeys,
} from './service-identity';
export type { MintOptions, ServiceKeyring, VerifiedCaller } from './service-identity';
export { authorizeCall } from './service-access';
export { grpcIdentityConfig, grpcServerConfig, serviceKeyringFromConfig } from './grpc-service-config';
export type { GrpcIdentityConfig } from './grpc-service-config';
export type { MethodAccess, ServiceCallers } from './service-access';
export { Metadata } from '@grpc/grpc-js';
export * from './generated';
