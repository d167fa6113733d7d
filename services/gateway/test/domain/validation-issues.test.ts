import { isAppError } from '@isams-sync/errors';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { jsonPointer, parseRequest } from '../../src/domain/validation-issues';

describe('parseRequest', () => {
  const schema = z.object({ dryRun: z.boolean().default(false), emails: z.array(z.email()).optional() });

  it('returns the parsed value with its defaults', () => {
    expect(parseRequest(schema, {}, 'body')).toEqual({ dryRun: false });
  });

  it('throws GATEWAY_VALIDATION_FAILED naming every bad field as in, JSON-pointer path and message', () => {
    const err = (() => {
      try {
        parseRequest(schema, { dryRun: 'yes', emails: ['a@b.example', 'nope'] }, 'body');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(isAppError(err) && err.code).toBe('GATEWAY_VALIDATION_FAILED');
    const issues = isAppError(err) ? (err.details?.issues as Array<{ in: string; path: string }>) : [];
    expect(issues.map((i) => [i.in, i.path])).toEqual([
      ['body', '/dryRun'],
      ['body', '/emails/1'],
    ]);
  });
});

describe('jsonPointer', () => {
  it.each([
    [['notificationEmails', 1], '/notificationEmails/1'],
    ['page.page_token', '/page/page_token'],
    ['removals[0].id', '/removals/0/id'],
    [['a/b', 'c~d'], '/a~1b/c~0d'],
    [[], ''],
  ])('%j → %s', (path, pointer) => {
    expect(jsonPointer(path as Array<string | number> | string)).toBe(pointer);
  });
});
