import { isAppError } from '@isams-sync/errors';
import type { AppError } from '@isams-sync/errors';
import { MongoBulkWriteError, MongoError, MongoServerError } from 'mongodb';
import { MongoErrors } from './mongo-errors';

/** Context added to the details of a mapped error. */
export interface MongoErrorContext {
  /** The operation, e.g. `bulkUpsert`. */
  operation?: string;
  /** The collection the operation ran against. */
  collection?: string;
}

const UNAVAILABLE_ERRORS = new Set([
  'MongoServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoTopologyClosedError',
  'MongoNotConnectedError',
  'MongoClientClosedError',
  'MongoServerClosedError',
  'MongoPoolClearedError',
  'MongoStalePrimaryError',
]);

const DUPLICATE_KEY_CODES = new Set([11000, 11001, 12582]);
// FerretDB reports a unique violation caused by an *update* of an existing document as
// InternalError (code 1) carrying the backend's own message instead of E11000: SQLite's
// "UNIQUE constraint failed", PostgreSQL's "duplicate key value violates unique constraint … (SQLSTATE 23505)".
const FERRET_UNIQUE_MESSAGE =
  /UNIQUE constraint failed|duplicate key value violates unique constraint|SQLSTATE 23505/;
// FerretDB has no sessions: a transaction's first command fails to parse its `autocommit` field.
const FERRET_NO_TRANSACTION_MESSAGE = /unknown field "(autocommit|txnNumber|startTransaction)"/;
// FerretDB's SQLite backend under write contention: the statement gave up waiting for the lock.
// Nothing was written; the same operation succeeds later, so it is transient (MONGO_UNAVAILABLE).
const FERRET_BUSY_MESSAGE = /database is locked|SQLITE_BUSY|SQLITE_LOCKED/;
// FerretDB whose PostgreSQL is away answers InternalError with the backend's connection error
// (pgx's "failed to connect to …", a reset, SQLSTATE class 08 or an administrator's shutdown, 57P01-03):
// the database is unavailable, not broken.
const FERRET_BACKEND_AWAY_MESSAGE =
  /failed to connect to|connection reset by peer|conn closed|unexpected EOF|SQLSTATE (08|57P0[1-3])/;
// Node's own socket errors, which the driver sometimes lets through unwrapped (`write ECONNRESET`).
const NETWORK_ERROR_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** Whether `err` or an error in its `cause` chain is a network error of Node's. */
function isNetworkError(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth += 1) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_ERROR_CODES.has(code)) return true;
  }
  return false;
}
const UNSUPPORTED_CODES = new Set([115, 238, 263, 20]);
const TIMEOUT_CODES = new Set([50, 262]);
const AUTH_CODES = new Set([13, 18]);
const INDEX_CONFLICT_CODES = new Set([85, 86]);
const INVALID_CODES = new Set([2, 9, 14, 17, 40, 52, 53, 55, 56, 57, 10334]);

/** True when the driver error is a duplicate-key violation on either backend. */
export function isDuplicateKeyError(err: unknown): boolean {
  if (isAppError(err)) return MongoErrors.MONGO_DUPLICATE_KEY.is(err);
  if (!(err instanceof MongoError)) return false;
  if (typeof err.code === 'number' && DUPLICATE_KEY_CODES.has(err.code)) return true;
  if (err.code === 1 && FERRET_UNIQUE_MESSAGE.test(err.message)) return true;
  if (err instanceof MongoBulkWriteError) {
    const writeErrors = err.writeErrors;
    const list = Array.isArray(writeErrors) ? writeErrors : [writeErrors];
    return list.some((w) => w !== undefined && DUPLICATE_KEY_CODES.has(w.code));
  }
  return false;
}

/**
 * For an unordered bulk write refused only on duplicate keys: the positions (in the request) of the
 * refused writes, the others having been applied. Anything else (another write error, no write
 * error, not a bulk write error): `undefined`.
 */
export function duplicateKeyIndexes(err: unknown): number[] | undefined {
  if (!(err instanceof MongoBulkWriteError)) return undefined;
  const writeErrors = err.writeErrors;
  const list = (Array.isArray(writeErrors) ? writeErrors : [writeErrors]).filter((w) => w !== undefined);
  if (list.length === 0 || !list.every((w) => DUPLICATE_KEY_CODES.has(w.code))) return undefined;
  return list.map((w) => w.index).sort((a, b) => a - b);
}

function indexName(message: string): string | undefined {
  // MongoDB: "E11000 duplicate key error collection: db.c index: name dup key: {...}".
  // FerretDB has no index in E11000 and a mangled SQLite index name in code-1 errors.
  return /index: (\S+)/.exec(message)?.[1];
}

/**
 * Maps any error thrown by the `mongodb` driver to an {@link AppError} of {@link MongoErrors} with a
 * stable code; the driver error is kept as `cause`. AppErrors pass through unchanged. Messages never
 * contain document values (MongoDB's E11000 message does, so it is not copied).
 */
export function toMongoError(err: unknown, context: MongoErrorContext = {}): AppError {
  if (isAppError(err)) return err;
  const cause = { cause: err };
  const ctx: Record<string, unknown> = {};
  if (context.operation) ctx.operation = context.operation;
  if (context.collection) ctx.collection = context.collection;
  if (!(err instanceof MongoError))
    return isNetworkError(err)
      ? MongoErrors.MONGO_UNAVAILABLE({ ...ctx, driverError: (err as Error).name }, cause)
      : MongoErrors.MONGO_ERROR(ctx, cause);

  const name = err.name;
  const code = typeof err.code === 'number' ? err.code : undefined;
  const codeName = err instanceof MongoServerError ? err.codeName : undefined;
  const driver = {
    ...ctx,
    driverError: name,
    ...(code === undefined ? {} : { driverCode: code }),
    ...(codeName ? { codeName } : {}),
  };

  if (
    UNAVAILABLE_ERRORS.has(name) ||
    err.hasErrorLabel('ResetPool') ||
    FERRET_BUSY_MESSAGE.test(err.message) ||
    (code === 1 && FERRET_BACKEND_AWAY_MESSAGE.test(err.message))
  )
    return MongoErrors.MONGO_UNAVAILABLE(driver, cause);
  if (name === 'MongoOperationTimeoutError' || (code !== undefined && TIMEOUT_CODES.has(code))) {
    return MongoErrors.MONGO_TIMEOUT(driver, cause);
  }
  if (isDuplicateKeyError(err)) {
    const index = indexName(err.message);
    return MongoErrors.MONGO_DUPLICATE_KEY({ ...driver, ...(index ? { index } : {}) }, cause);
  }
  if (FERRET_NO_TRANSACTION_MESSAGE.test(err.message) || name === 'MongoTransactionError') {
    return MongoErrors.MONGO_UNSUPPORTED({ ...driver, feature: 'transactions' }, cause);
  }
  if (name === 'MongoCompatibilityError') {
    return MongoErrors.MONGO_UNSUPPORTED({ ...driver, feature: 'server version' }, cause);
  }
  if (code !== undefined && UNSUPPORTED_CODES.has(code)) {
    return MongoErrors.MONGO_UNSUPPORTED({ ...driver, feature: codeName ?? `code ${code}` }, cause);
  }
  if (code !== undefined && INDEX_CONFLICT_CODES.has(code)) {
    return MongoErrors.MONGO_INDEX_CONFLICT(
      { ...driver, collection: context.collection ?? '?', index: '?' },
      cause,
    );
  }
  if (code !== undefined && AUTH_CODES.has(code)) return MongoErrors.MONGO_AUTH_FAILED(driver, cause);
  if (
    name === 'MongoMissingCredentialsError' ||
    name === 'MongoParseError' ||
    name === 'MongoInvalidArgumentError'
  ) {
    return MongoErrors.MONGO_INVALID_ARGUMENT(driver, cause);
  }
  if (code !== undefined && INVALID_CODES.has(code)) return MongoErrors.MONGO_INVALID_ARGUMENT(driver, cause);
  if (err.hasErrorLabel('RetryableWriteError') || err.hasErrorLabel('TransientTransactionError')) {
    return MongoErrors.MONGO_UNAVAILABLE(driver, cause);
  }
  return MongoErrors.MONGO_ERROR(driver, cause);
}

/** Runs `fn` and rethrows any failure as a mapped {@link AppError} (see {@link toMongoError}). */
export async function withMongoErrors<T>(context: MongoErrorContext, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toMongoError(err, context);
  }
}
