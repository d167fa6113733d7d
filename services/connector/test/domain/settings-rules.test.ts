import { describe, expect, it } from 'vitest';
import {
  keyLast4,
  normaliseIsamsUrl,
  validateApiKey,
  validateFormat,
  validateScheduleMinutes,
} from '../../src/domain/settings-rules';

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
};

describe('settings rules', () => {
  it('normalises iSAMS addresses and requires https except loopback in dev/test', () => {
    expect(normaliseIsamsUrl('school.isams.cloud', false)).toBe('https://school.isams.cloud');
    expect(normaliseIsamsUrl('https://School.iSAMS.cloud/', false)).toBe('https://school.isams.cloud');
    expect(normaliseIsamsUrl('http://127.0.0.1:8480', true)).toBe('http://127.0.0.1:8480');
    expect(code(() => normaliseIsamsUrl('http://127.0.0.1:8480', false))).toBe('CONNECTOR_INVALID_ARGUMENT');
    expect(code(() => normaliseIsamsUrl('http://school.isams.cloud', true))).toBe(
      'CONNECTOR_INVALID_ARGUMENT',
    );
    expect(code(() => normaliseIsamsUrl('ftp://school.isams.cloud', false))).toBe(
      'CONNECTOR_INVALID_ARGUMENT',
    );
    expect(code(() => normaliseIsamsUrl('https://u:p@school.isams.cloud', false))).toBe(
      'CONNECTOR_INVALID_ARGUMENT',
    );
    expect(code(() => normaliseIsamsUrl('https://school.isams.cloud/?apiKey=x', false))).toBe(
      'CONNECTOR_INVALID_ARGUMENT',
    );
    expect(code(() => normaliseIsamsUrl('intranet', false))).toBe('CONNECTOR_INVALID_ARGUMENT');
    expect(code(() => normaliseIsamsUrl('  ', false))).toBe('CONNECTOR_INVALID_ARGUMENT');
    // IPv6 literals are left to the egress check (ISAMS_ADDRESS_NOT_ALLOWED, like every IP literal).
    expect(normaliseIsamsUrl('https://[::ffff:127.0.0.1]:8443', false)).toBe('https://[::ffff:7f00:1]:8443');
  });

  it('validates keys, schedule and format', () => {
    expect(validateApiKey(' {ABC-123456} ')).toBe('{ABC-123456}');
    expect(code(() => validateApiKey('short'))).toBe('CONNECTOR_INVALID_ARGUMENT');
    expect(code(() => validateApiKey('has space in it'))).toBe('CONNECTOR_INVALID_ARGUMENT');
    expect(keyLast4('{11111111-2222-3333-4444-555566667777}')).toBe('7777');
    expect(validateScheduleMinutes(0)).toBe(60);
    expect(validateScheduleMinutes(30)).toBe(30);
    expect(code(() => validateScheduleMinutes(1))).toBe('CONNECTOR_INVALID_ARGUMENT');
    expect(code(() => validateScheduleMinutes(2.5))).toBe('CONNECTOR_INVALID_ARGUMENT');
    expect(validateFormat('')).toBe('xml');
    expect(validateFormat('json')).toBe('json');
    expect(code(() => validateFormat('csv'))).toBe('CONNECTOR_INVALID_ARGUMENT');
  });
});
