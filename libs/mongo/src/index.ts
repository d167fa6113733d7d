/**
 * `@isams-sync/mongo` — the MongoDB adapter used by every service. It works identically on
 * MongoDB 7 (production) and FerretDB 1.24 (local/CI) by staying inside their common subset.
 * @packageDocumentation
 */
export { connectMongo, mongoReadinessCheck, openMongo, verifyMongo } from './connect-mongo';
export type { ConnectMongoOptions, MongoConnection } from './connect-mongo';
export { mongoOptionsFromConfig } from './mongo-service-config';
export type { MongoServiceConfig } from './mongo-service-config';
export { redactMongoUrl } from './redact-mongo-url';
export { ensureIndexes } from './ensure-indexes';
export type { IndexSpec, CollectionIndexSpec, EnsureIndexesResult } from './ensure-indexes';
export { MongoErrors } from './mongo-errors';
export { toMongoError, withMongoErrors, isDuplicateKeyError } from './to-mongo-error';
export type { MongoErrorContext } from './to-mongo-error';
export { packJson, unpackJson } from './packed-json';
export { assertPortableDocument, MAX_DOCUMENT_BYTES } from './portable-document';
export { upsertById, bulkUpsert, insertIfAbsent } from './upsert';
export type { UpsertByIdResult, BulkUpsertOptions, BulkUpsertResult } from './upsert';
export { compareAndSet } from './compare-and-set';
export { sweepExpired } from './sweep-expired';
export type { SweepExpiredOptions } from './sweep-expired';
export {
  acquireLease,
  renewLease,
  releaseLease,
  leaseIsCurrent,
  pruneLeases,
  leaseIndexes,
  leaseId,
} from './lease';
export type { Lease, LeaseDocument, LeaseRequest, LeaseGeneration } from './lease';
export { mongoLeaseStore } from './lease-store';
export type { LeaseStore } from './lease-store';
export { createFence, fencedWrite, fenceCondition } from './fence';
export type { Fence, FencingToken } from './fence';
export {
  claimStep,
  confirmFenceAfterClaim,
  readStepClaim,
  deleteStepClaims,
  settleExistingClaim,
  stepClaimId,
} from './step-claims';
export type { StepClaimDocument, StepClaimOutcome, ClaimStepRequest } from './step-claims';
export { LeaseKeeper } from './lease-keeper';
export type { LeaseKeeperOptions, HeldLease, AcquireOptions } from './lease-keeper';
export { assertPortablePipeline, portableAggregate, iterateCursor } from './portable-aggregate';
export { detectServerBackend } from './server-backend';
export type { ServerBackend } from './server-backend';
export { tenantCollection } from './tenant-collection';
export { recordQueryShapes, indexServing, describeShape, shapesOf, queryIndexReport } from './query-shapes';
export type { QueryShape, QueryShapeRecorder, QueryIndexReport } from './query-shapes';
export type { TenantCollection, TenantDocument } from './tenant-collection';
