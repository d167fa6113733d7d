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

/** What the client makes of an undici error (`message`, `name`, `code`) while waiting for the response. */
const classifyUndiciError = (message: string, name: string, code: string) =>
  classifyNetworkError(Object.assign(new Error(message), { name, code }), {
    host: 'school.isams.cloud',
    apiKey: 'KEY',
    phase: 'response',
  });

describe('a time-out while connecting', () => {
  it('is ISAMS_TIMEOUT, but its admin action does not promise method groups (they cannot help)', () => {
    const err = classifyUndiciError(
      'Connect Timeout Error',
      'ConnectTimeoutError',
      'UND_ERR_CONNECT_TIMEOUT',
    );
    expect(err).toMatchObject({ code: 'ISAMS_TIMEOUT', transient: true });
    expect(err.details).toMatchObject({ errorCode: 'UND_ERR_CONNECT_TIMEOUT' });
    expect(err.adminAction).not.toMatch(/method groups|35 s/i);
    expect(err.adminAction).toMatch(/could not connect/i);
    expect(err.adminAction).toMatch(/automatically/i);
  });

  it('a time-out waiting for the document keeps the generation-limit action', () => {
    const err = classifyUndiciError(
      'Headers Timeout Error',
      'HeadersTimeoutError',
      'UND_ERR_HEADERS_TIMEOUT',
    );
    expect(err.adminAction).toBe(ISAMS_ERRORS.ISAMS_TIMEOUT.adminAction);
  });
});

describe('a certificate chain the server sends without its intermediate certificate', () => {
  it.each([
    ['unable to verify the first certificate', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
    ['unable to get issuer certificate', 'UNABLE_TO_GET_ISSUER_CERT'],
    ['unable to get local issuer certificate', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'],
  ])('%s (%s) is ISAMS_TLS asking for the intermediate certificate(s)', (message, code) => {
    const err = classifyUndiciError(message, 'Error', code);
    expect(err).toMatchObject({ code: 'ISAMS_TLS', transient: false });
    expect(err.details).toMatchObject({ errorCode: code });
    expect(err.adminAction).toMatch(/must send its intermediate certificate/i);
    expect(err.adminAction).toMatch(/browser/i);
  });

  it('an expired or self-signed certificate keeps the general TLS action', () => {
    for (const code of ['CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'ERR_TLS_CERT_ALTNAME_INVALID'])
      expect(classifyUndiciError('certificate problem', 'Error', code).adminAction).toBe(
        ISAMS_ERRORS.ISAMS_TLS.adminAction,
      );
  });
});
