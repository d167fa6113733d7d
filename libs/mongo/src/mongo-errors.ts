import { defineErrors } from '@isams-sync/errors';

/**
 * The error catalogue of `@isams-sync/mongo`. Every driver error leaving this library is one of
 * these (see {@link toMongoError}); the codes are stable and safe to branch on.
 */
export const MongoErrors = defineErrors({
  /** The server cannot be reached (server selection timed out, network error, client closed). */
  MONGO_UNAVAILABLE: { kind: 'unavailable', message: 'The database is unavailable' },
  /** A unique index (including `_id`) rejected the write. */
  MONGO_DUPLICATE_KEY: {
    kind: 'already_exists',
    message: (d: { collection?: string; index?: string } & Record<string, unknown>) =>
      `Duplicate key${d.collection ? ` in collection ${d.collection}` : ''}${d.index ? ` (index ${d.index})` : ''}`,
  },
  /** A feature the portable subset (MongoDB 7 ∩ FerretDB 1.24) does not include. */
  MONGO_UNSUPPORTED: {
    kind: 'failed_precondition',
    message: (d: { feature: string } & Record<string, unknown>) =>
      `Unsupported database feature: ${d.feature}`,
  },
  /** A document that one of the backends would reject or store differently. */
  MONGO_INVALID_DOCUMENT: {
    kind: 'invalid_argument',
    message: (d: { reason: string; path?: string } & Record<string, unknown>) =>
      `Invalid document${d.path ? ` at ${d.path}` : ''}: ${d.reason}`,
  },
  /** The server rejected a command or its arguments. */
  MONGO_INVALID_ARGUMENT: { kind: 'invalid_argument', message: 'The database rejected the request' },
  /** An index with the same name or key but a different definition already exists. */
  MONGO_INDEX_CONFLICT: {
    kind: 'failed_precondition',
    message: (d: { collection: string; index: string } & Record<string, unknown>) =>
      `Index ${d.index} on ${d.collection} conflicts with an existing index`,
  },
  /** The operation ran out of time on the server or in the driver. */
  MONGO_TIMEOUT: { kind: 'deadline_exceeded', message: 'The database operation timed out' },
  /** Authentication or authorisation against the database failed. */
  MONGO_AUTH_FAILED: { kind: 'internal', message: 'Database authentication failed' },
  /** A tenant-scoped write tried to touch another tenant's data. */
  MONGO_TENANT_MISMATCH: {
    kind: 'permission_denied',
    message: 'The document belongs to another tenant',
  },
  /**
   * A write under a lease was refused: a newer generation of the lease (a higher fencing token) was
   * issued, so this holder is stale. `afterWrite`: the supersession was seen only after the write was
   * sent — stop; the write may stand as an interrupted step that the new holder resumes.
   */
  MONGO_FENCED: {
    kind: 'aborted',
    message: (d: { key: string; token: number; afterWrite?: boolean } & Record<string, unknown>) =>
      `Lease ${d.key} has a newer holder than token ${d.token}${d.afterWrite ? ' (seen after writing)' : ''}`,
  },
  /** A held lease was lost: a renewal was refused (taken over), came too late, or the holder released it. */
  MONGO_LEASE_LOST: {
    kind: 'unavailable',
    message: (d: { key: string; token: number; reason: string } & Record<string, unknown>) =>
      `Lease ${d.key} (token ${d.token}) lost: ${d.reason}`,
  },
  /** Any other database error. */
  MONGO_ERROR: { kind: 'internal', message: 'Database operation failed' },
});
