import { describe, expect, it } from 'vitest';
import { ISAMS_ERRORS, ISAMS_ERROR_CODES } from '../src/errors/isams-error';
import { classifyNetworkError } from '../src/client/network-errors';

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

describe('a time-out while connecting', () => {
  it('is ISAMS_TIMEOUT, but its admin action does not promise method groups (they cannot help)', () => {
    const connectTimeout = Object.assign(new Error('Connect Timeout Error'), {
      name: 'ConnectTimeoutError',
      code: 'UND_ERR_CONNECT_TIMEOUT',
    });
    const err = classifyNetworkError(connectTimeout, {
      host: 'school.isams.cloud',
      apiKey: 'KEY',
      phase: 'response',
    });
    expect(err).toMatchObject({ code: 'ISAMS_TIMEOUT', transient: true });
    expect(err.details).toMatchObject({ errorCode: 'UND_ERR_CONNECT_TIMEOUT' });
    expect(err.adminAction).not.toMatch(/method groups|35 s/i);
    expect(err.adminAction).toMatch(/could not connect/i);
    expect(err.adminAction).toMatch(/automatically/i);
  });

  it('a time-out waiting for the document keeps the generation-limit action', () => {
    const headersTimeout = Object.assign(new Error('Headers Timeout Error'), {
      name: 'HeadersTimeoutError',
      code: 'UND_ERR_HEADERS_TIMEOUT',
    });
    const err = classifyNetworkError(headersTimeout, {
      host: 'school.isams.cloud',
      apiKey: 'KEY',
      phase: 'response',
    });
    expect(err.adminAction).toBe(ISAMS_ERRORS.ISAMS_TIMEOUT.adminAction);
  });
});
