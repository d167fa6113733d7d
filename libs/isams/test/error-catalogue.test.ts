import { describe, expect, it } from 'vitest';
import { ISAMS_ERRORS, ISAMS_ERROR_CODES } from '../src/errors/isams-error';

describe('admin actions of the iSAMS error catalogue', () => {
  it('never tells the school to split the datasets across several Batch API keys (SchoolCloud uses one key)', () => {
    for (const code of ISAMS_ERROR_CODES) {
      expect(ISAMS_ERRORS[code].adminAction, code).not.toMatch(
        /several (batch api )?keys|across (several|multiple)|split/i,
      );
    }
  });

  it.each(['ISAMS_TIMEOUT', 'ISAMS_SERVER_BUSY', 'ISAMS_RESPONSE_TOO_LARGE'] as const)(
    '%s says what SchoolCloud does about it: smaller method groups, automatic retries',
    (code) => {
      const action = ISAMS_ERRORS[code].adminAction;
      expect(action).toMatch(/SchoolCloud/);
      expect(action).toMatch(/method groups/i);
      expect(action).toMatch(/automatically/i);
    },
  );

  it('ISAMS_TIMEOUT explains the ~35 s generation limit and when to involve iSAMS support', () => {
    const action = ISAMS_ERRORS.ISAMS_TIMEOUT.adminAction;
    expect(action).toMatch(/35/);
    expect(action).toMatch(/iSAMS support/);
    expect(action).toMatch(/nothing to do/i);
  });
});
