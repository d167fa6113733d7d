import { describe, expect, expectTypeOf, it } from 'vitest';
import { AppError, defineErrors, httpStatusFor, isAppError } from '../src/index';

const Errors = defineErrors({
  ROSTER_NOT_FOUND: { kind: 'not_found', message: (d: { id: string }) => `Roster ${d.id} not found` },
  ROSTER_LOCKED: { kind: 'failed_precondition', message: 'Roster is locked' },
});

describe('defineErrors', () => {
  it('builds AppErrors whose code is the key and whose details are the params', () => {
    const cause = new Error('driver failure');
    const err = Errors.ROSTER_NOT_FOUND({ id: 'r-42' }, { cause });
    expect(err).toBeInstanceOf(AppError);
    expect(isAppError(err)).toBe(true);
    expect(err.code).toBe('ROSTER_NOT_FOUND');
    expect(err.kind).toBe('not_found');
    expect(err.message).toBe('Roster r-42 not found');
    expect(err.details).toEqual({ id: 'r-42' });
    expect(err.cause).toBe(cause);
    expect(httpStatusFor(err)).toBe(404);
  });

  it('accepts fixed messages with optional details', () => {
    expect(Errors.ROSTER_LOCKED().message).toBe('Roster is locked');
    expect(Errors.ROSTER_LOCKED().details).toBeUndefined();
    expect(Errors.ROSTER_LOCKED({ by: 'admin' }).details).toEqual({ by: 'admin' });
  });

  it('exposes the code, kind and a type guard on each factory', () => {
    expect(Errors.ROSTER_NOT_FOUND.code).toBe('ROSTER_NOT_FOUND');
    expect(Errors.ROSTER_LOCKED.kind).toBe('failed_precondition');
    expect(Errors.ROSTER_LOCKED.is(Errors.ROSTER_LOCKED())).toBe(true);
    expect(Errors.ROSTER_LOCKED.is(Errors.ROSTER_NOT_FOUND({ id: 'x' }))).toBe(false);
    expect(Errors.ROSTER_LOCKED.is(new Error('Roster is locked'))).toBe(false);
  });

  it('is typed from the catalogue', () => {
    expectTypeOf(Errors.ROSTER_NOT_FOUND).parameter(0).toEqualTypeOf<{ id: string }>();
    expectTypeOf(Errors.ROSTER_NOT_FOUND({ id: 'a' }).code).toEqualTypeOf<'ROSTER_NOT_FOUND'>();
    // @ts-expect-error details are required when the message needs them
    expect(() => Errors.ROSTER_NOT_FOUND()).toThrow(TypeError);
    // @ts-expect-error unknown keys are not factories
    expect(Errors.NOPE).toBeUndefined();
  });
});
