/**
 * `@isams-sync/grpc` — the gRPC conventions of isams-sync: proto loading, a server bootstrap with
 * health/reflection/graceful shutdown, handler wrappers that build a tenant-aware call context and
 * map errors to statuses, and a client factory with deadlines and safe retries. Generated proto
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
export { toGrpcStatus, readErrorDetails } from './error-status';
export { unary, serverStreaming, isWrappedHandler } from './handlers';
export type { MethodOptions, TenantFreeMethodOptions, StreamSend, WrappedHandler } from './handlers';
export {
  PROTO_LOADER_OPTIONS,
  loadProtoDefinition,
  loadProtoPackage,
  resolveProtosDir,
} from './proto-loader';
export type { ProtosDirOptions } from './proto-loader';
export { HEALTH_SERVICE_NAME, createGrpcServer } from './grpc-server';
export type { GrpcServerHandle, GrpcServerOptions, GrpcServiceRegistration } from './grpc-server';
export {
  GrpcCallError,
  buildServiceConfig,
  callUnary,
  createGrpcClient,
  isServiceError,
  promisifyUnary,
} from './grpc-client';
export type { GrpcClientConstructor, GrpcClientOptions, UnaryCallOptions, UnaryMethod } from './grpc-client';
export { Metadata } from '@grpc/grpc-js';
export * from './generated';
