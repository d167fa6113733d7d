import { AppError } from '@isams-sync/errors';
import { MongoBulkWriteError, MongoNetworkError, MongoServerError, MongoServerSelectionError } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { isDuplicateKeyError, toMongoError, withMongoErrors } from '../src/index';

const server = (code: number, message: string, codeName?: string) =>
  new MongoServerError({ code, errmsg: message, message, ...(codeName ? { codeName } : {}) });

describe('toMongoError', () => {
  it('maps MongoDB’s E11000 without copying the duplicate values into the message', () => {
    const err = toMongoError(
      server(
        11000,
        'E11000 duplicate key error collection: db.people index: tenant_person_uq dup key: { personId: "Ann" }',
        'DuplicateKey',
      ),
      {
        collection: 'people',
        operation: 'insert',
      },
    );
    expect(err).toMatchObject({
      code: 'MONGO_DUPLICATE_KEY',
      kind: 'already_exists',
      details: { index: 'tenant_person_uq', collection: 'people', driverCode: 11000 },
    });
    expect(err.message).toBe('Duplicate key in collection people (index tenant_person_uq)');
    expect(err.cause).toBeInstanceOf(MongoServerError);
  });

  it('maps FerretDB’s InternalError for a unique violation by an update to MONGO_DUPLICATE_KEY', () => {
    const err = server(
      1,
      "[msg_update.go:133] constraint failed: UNIQUE constraint failed: index 't_f10c3da3_a_b_uq' (2067)",
      'InternalError',
    );
    expect(isDuplicateKeyError(err)).toBe(true);
    expect(toMongoError(err).code).toBe('MONGO_DUPLICATE_KEY');
    expect(toMongoError(server(1, 'something else', 'InternalError')).code).toBe('MONGO_ERROR');
  });

  it('maps the same InternalError from FerretDB’s PostgreSQL backend (SQLSTATE 23505)', () => {
    // Verbatim from FerretDB 1.24.2 on PostgreSQL 15 (capabilities.int.test.ts, update of a unique key).
    const err = server(
      1,
      '[msg_update.go:133 handler.(*Handler).updateDocument] [update.go:114 common.UpdateDocument] ' +
        '[collection.go:227 postgresql.(*collection).UpdateAll] [collection.go:218 postgresql.(*collection).UpdateAll.func1] ' +
        'ERROR: duplicate key value violates unique constraint "people_963335ee_tenant_person_uq_78c1e4f6_idx" (SQLSTATE 23505)',
      'InternalError',
    );
    expect(isDuplicateKeyError(err)).toBe(true);
    expect(toMongoError(err, { collection: 'people' })).toMatchObject({
      code: 'MONGO_DUPLICATE_KEY',
      kind: 'already_exists',
      details: { collection: 'people', driverCode: 1 },
    });
    // Another PostgreSQL error in the same wrapper stays unmapped.
    expect(
      toMongoError(
        server(1, 'ERROR: value too long for type character varying(10) (SQLSTATE 22001)', 'InternalError'),
      ).code,
    ).toBe('MONGO_ERROR');
  });

  it('maps bulk write errors by their write errors', () => {
    const bulk = new MongoBulkWriteError(
      {
        message: 'E11000 duplicate key error collection: db.t',
        code: 11000,
        writeErrors: [
          { index: 1, code: 11000, errmsg: 'E11000 duplicate key error collection: db.t' },
        ] as never,
      },
      {
        insertedCount: 1,
        matchedCount: 0,
        modifiedCount: 0,
        deletedCount: 0,
        upsertedCount: 0,
        upsertedIds: {},
        insertedIds: {},
      } as never,
    );
    expect(toMongoError(bulk).code).toBe('MONGO_DUPLICATE_KEY');
  });

  it.each([
    [
      new MongoServerSelectionError('connect ECONNREFUSED 127.0.0.1:1', {
        type: 'Unknown',
        servers: new Map(),
      } as never),
      'MONGO_UNAVAILABLE',
      'unavailable',
    ],
    [new MongoNetworkError('socket hang up'), 'MONGO_UNAVAILABLE', 'unavailable'],
    [
      server(
        1,
        '[msg_insert.go:168 handler.(*Handler).MsgInsert] [collection.go:135 sqlite.(*collection).InsertAll.func1] database is locked (5) (SQLITE_BUSY)',
        'InternalError',
      ),
      'MONGO_UNAVAILABLE',
      'unavailable',
    ],
    [
      server(238, 'Index option "expireAfterSeconds" is not implemented yet', 'NotImplemented'),
      'MONGO_UNSUPPORTED',
      'failed_precondition',
    ],
    [
      server(9, 'insert: unknown field "autocommit"', 'FailedToParse'),
      'MONGO_UNSUPPORTED',
      'failed_precondition',
    ],
    [
      server(
        20,
        'Transaction numbers are only allowed on a replica set member or mongos',
        'IllegalOperation',
      ),
      'MONGO_UNSUPPORTED',
      'failed_precondition',
    ],
    [server(50, 'operation exceeded time limit', 'MaxTimeMSExpired'), 'MONGO_TIMEOUT', 'deadline_exceeded'],
    [
      server(86, 'An existing index has the same name', 'IndexKeySpecsConflict'),
      'MONGO_INDEX_CONFLICT',
      'failed_precondition',
    ],
    [server(18, 'Authentication failed.', 'AuthenticationFailed'), 'MONGO_AUTH_FAILED', 'internal'],
    [
      server(2, 'invalid key: "x.y" (key must not contain \'.\' sign)', 'BadValue'),
      'MONGO_INVALID_ARGUMENT',
      'invalid_argument',
    ],
    [new Error('not from the driver'), 'MONGO_ERROR', 'internal'],
  ])('maps %s to %s', (input, code, kind) => {
    expect(toMongoError(input)).toMatchObject({ code, kind });
  });

  it('passes AppErrors through and wraps async failures', async () => {
    const app = new AppError({ code: 'X', kind: 'internal', message: 'x' });
    expect(toMongoError(app)).toBe(app);
    await expect(
      withMongoErrors({ operation: 'op' }, () => Promise.reject(server(11000, 'E11000'))),
    ).rejects.toMatchObject({
      code: 'MONGO_DUPLICATE_KEY',
      details: { operation: 'op' },
    });
  });
});

describe('toMongoError on an outage', () => {
  it.each([
    [
      // Verbatim from FerretDB 1.24.2 whose PostgreSQL could not be reached (the outages audit).
      server(
        1,
        '[msg_find.go:344 handler.handleMaxTimeMSError] [collection.go:109 postgresql.(*collection).Query] ' +
          'failed to connect to `user=postgres database=ferretdb`:\n\t127.0.0.1:15532 (127.0.0.1): dial error: ' +
          'dial tcp 127.0.0.1:15532: connect: connection reset by peer',
        'InternalError',
      ),
      'MONGO_UNAVAILABLE',
      'unavailable',
    ],
    [
      server(
        1,
        'FATAL: terminating connection due to administrator command (SQLSTATE 57P01)',
        'InternalError',
      ),
      'MONGO_UNAVAILABLE',
      'unavailable',
    ],
    // The driver sometimes lets Node's own socket error through unwrapped.
    [
      Object.assign(new Error('write ECONNRESET'), { code: 'ECONNRESET', errno: -104, syscall: 'write' }),
      'MONGO_UNAVAILABLE',
      'unavailable',
    ],
    [
      new Error('socket failed', {
        cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:27017'), { code: 'ECONNREFUSED' }),
      }),
      'MONGO_UNAVAILABLE',
      'unavailable',
    ],
    [Object.assign(new Error('no such file'), { code: 'ENOENT' }), 'MONGO_ERROR', 'internal'],
  ])('maps %s to %s (the database is away, not broken)', (input, code, kind) => {
    expect(toMongoError(input)).toMatchObject({ code, kind });
  });
});
