import { describe, expect, it } from 'vitest';
import { AppError, isAppError } from '../src/index';

describe('AppError', () => {
  it('keeps code, kind, details, message and the standard cause', () => {
    const cause = new Error('socket hang up at 10.0.0.4');
    const err = new AppError({
      code: 'ROSTER_NOT_FOUND',
      kind: 'not_found',
      message: 'Roster r1 not found',
      details: { id: 'r1' },
      cause,
    });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('AppError');
    expect(err.code).toBe('ROSTER_NOT_FOUND');
    expect(err.kind).toBe('not_found');
    expect(err.message).toBe('Roster r1 not found');
    expect(err.details).toEqual({ id: 'r1' });
    expect(err.cause).toBe(cause);
    expect(err.stack).toContain('Roster r1 not found');
  });

  it('serialises to { code, message, details } without the cause or stack', () => {
    const err = new AppError({
      code: 'X_FAILED',
      kind: 'unavailable',
      message: 'Upstream unavailable',
      details: { attempt: 3 },
      cause: new Error('password=hunter2'),
    });
    const json = JSON.stringify(err);
    expect(JSON.parse(json)).toEqual({
      code: 'X_FAILED',
      message: 'Upstream unavailable',
      details: { attempt: 3 },
    });
    expect(json).not.toContain('hunter2');
    expect(json).not.toContain('stack');
  });

  it('omits details from JSON when there are none', () => {
    const err = new AppError({ code: 'A', kind: 'aborted', message: 'm' });
    expect(err.toJSON()).toEqual({ code: 'A', message: 'm' });
    expect('cause' in err).toBe(false);
  });

  it('names subclasses after the subclass', () => {
    class ConfigError extends AppError {}
    const err = new ConfigError({ code: 'CONFIG_INVALID', kind: 'invalid_argument', message: 'bad' });
    expect(err.name).toBe('ConfigError');
    expect(isAppError(err)).toBe(true);
  });

  it('isAppError rejects plain errors and non-errors', () => {
    expect(isAppError(new Error('x'))).toBe(false);
    expect(isAppError({ code: 'X', kind: 'internal', message: 'm' })).toBe(false);
    expect(isAppError(null)).toBe(false);
    expect(isAppError('AppError')).toBe(false);
    expect(isAppError(new AppError({ code: 'X', kind: 'internal', message: 'm' }))).toBe(true);
  });
});
