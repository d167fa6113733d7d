import { describe, expect, it } from 'vitest';
import { AppError, defineErrors, toPublicError } from '../src/index';

const Errors = defineErrors({
  SYNC_HELD: {
    kind: 'failed_precondition',
    message: (d: { runId: string }) => `Sync run ${d.runId} is held`,
  },
  MONGO_WRITE_FAILED: { kind: 'internal', message: 'Write to roster collection failed on host db-1' },
});

describe('toPublicError', () => {
  it('keeps code, message and details of non-internal AppErrors', () => {
    const err = Errors.SYNC_HELD({ runId: 'run-1' }, { cause: new Error('secret internals') });
    expect(toPublicError(err)).toEqual({
      code: 'SYNC_HELD',
      message: 'Sync run run-1 is held',
      details: { runId: 'run-1' },
    });
    expect(JSON.stringify(toPublicError(err))).not.toContain('secret internals');
  });

  it('hides internal AppErrors and unknown values behind a generic body', () => {
    const generic = { code: 'INTERNAL', message: 'Internal error' };
    expect(toPublicError(Errors.MONGO_WRITE_FAILED())).toEqual(generic);
    expect(toPublicError(new Error('ECONNREFUSED mongodb://user:pw@db:27017'))).toEqual(generic);
    expect(toPublicError('a string')).toEqual(generic);
    expect(toPublicError(undefined)).toEqual(generic);
    expect(
      toPublicError(
        new AppError({ code: 'X', kind: 'internal', message: 'leaky', details: { host: 'db-1' } }),
      ),
    ).toEqual(generic);
  });

  it('returns a fresh object each time', () => {
    const a = toPublicError(new Error('x'));
    a.message = 'changed';
    expect(toPublicError(new Error('y')).message).toBe('Internal error');
  });
});
