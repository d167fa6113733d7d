import { describe, expect, it } from 'vitest';
import {
  keyLast4,
  normaliseIsamsUrl,
  validateApiKey,
  validateFormat,
  validateNotificationEmails,
  validateScheduleMinutes,
  validateTimeZone,
} from '../../src/domain/settings-rules';

const errorOf = (fn: () => unknown): { code?: string; message?: string; details?: unknown } | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err as { code?: string; message?: string; details?: unknown };
  }
};

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

  it('refuses a key with an invisible character (zero-width, joiner, BOM, other format or control characters), never echoing the key', () => {
    const KEY = '{11111111-2222-3333-4444-555566667777}';
    const invisible = [
      '\u200b',
      '\u200c',
      '\u200d',
      '\u2060',
      '\u00ad',
      '\u202e',
      '\u0000',
      '\u007f',
      '\u0085',
    ];
    for (const ch of invisible)
      for (const pasted of [KEY + ch, ch + KEY, KEY.slice(0, 10) + ch + KEY.slice(10)]) {
        const err = errorOf(() => validateApiKey(pasted));
        const hex = ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
        expect(err, JSON.stringify(pasted)).toMatchObject({
          code: 'CONNECTOR_INVALID_ARGUMENT',
          details: { field: 'apiKey' },
        });
        expect(err?.message).toContain(`apiKey: contains an invisible character (U+${hex})`);
        expect(err?.message).not.toContain('11111111');
        expect(JSON.stringify(err?.details)).not.toContain('11111111');
      }
    // A BOM inside the key is refused the same way; one around it is trimmed like other white space.
    expect(errorOf(() => validateApiKey(KEY.slice(0, 10) + '\ufeff' + KEY.slice(10)))?.message).toContain(
      'apiKey: contains an invisible character (U+FEFF)',
    );
    expect(validateApiKey('\ufeff' + KEY + '\ufeff')).toBe(KEY);
  });

  it('refuses a key with any character outside printable ASCII (an iSAMS key is a GUID), saying so', () => {
    for (const pasted of [
      '{11111111-2222-3333-4444-55556666777\u00e9}',
      '\uff5b11111111-2222-3333-4444-555566667777\uff5d',
      '11111111\u20132222-3333-4444-555566667777',
    ]) {
      const err = errorOf(() => validateApiKey(pasted));
      expect(err, JSON.stringify(pasted)).toMatchObject({
        code: 'CONNECTOR_INVALID_ARGUMENT',
        details: { field: 'apiKey' },
      });
      expect(err?.message).toContain('only printable ASCII');
      expect(err?.message).not.toContain('11111111');
    }
    // Leading and trailing white space (a pasted line end, a no-break space) is still trimmed.
    expect(validateApiKey('\u00a0{11111111-2222-3333-4444-555566667777}\r\n')).toBe(
      '{11111111-2222-3333-4444-555566667777}',
    );
  });

  it('refuses a UTC offset as a time zone (no daylight-saving changes): IANA names only', () => {
    for (const offset of ['+01:00', '-05:00', '+0100', '+01', '-00:00', '+00:00'])
      expect(
        errorOf(() => validateTimeZone(offset)),
        offset,
      ).toMatchObject({
        code: 'CONNECTOR_INVALID_ARGUMENT',
        details: { field: 'timeZone' },
      });
    expect(validateTimeZone('Etc/UTC')).toBe('UTC');
    expect(validateTimeZone('UTC')).toBe('UTC');
    expect(validateTimeZone('Etc/GMT-1')).toBe('Etc/GMT-1');
    expect(validateTimeZone('Europe/London')).toBe('Europe/London');
  });

  it('accepts IANA time zone names (case-insensitively, returned canonical) and defaults to Europe/London', () => {
    expect(validateTimeZone('')).toBe('Europe/London');
    expect(validateTimeZone('  ')).toBe('Europe/London');
    expect(validateTimeZone('Europe/Paris')).toBe('Europe/Paris');
    expect(validateTimeZone('america/new_york')).toBe('America/New_York');
    expect(Intl.supportedValuesOf('timeZone')).toContain(validateTimeZone('Asia/Kolkata'));
    expect(validateTimeZone('utc')).toBe('UTC');
    expect(code(() => validateTimeZone('Mars/Olympus'))).toBe('CONNECTOR_INVALID_ARGUMENT');
    expect(code(() => validateTimeZone('GMT+1; DROP'))).toBe('CONNECTOR_INVALID_ARGUMENT');
  });

  it('validates the addresses to notify: trimmed, domain lower-cased, duplicates dropped, at most 10', () => {
    expect(validateNotificationEmails([])).toEqual([]);
    expect(
      validateNotificationEmails([
        ' Head@School.ORG',
        'head@school.org',
        'it.office+isams@mail.school.sch.uk',
      ]),
    ).toEqual(['Head@school.org', 'it.office+isams@mail.school.sch.uk']);
    for (const bad of [
      'head',
      'head@',
      '@school.org',
      'head@school',
      'a b@school.org',
      'a@b.org, c@d.org',
      'x@-bad.org',
    ]) {
      expect(
        code(() => validateNotificationEmails([bad])),
        bad,
      ).toBe('CONNECTOR_INVALID_ARGUMENT');
    }
    expect(code(() => validateNotificationEmails([`${'a'.repeat(65)}@school.org`]))).toBe(
      'CONNECTOR_INVALID_ARGUMENT',
    );
    expect(code(() => validateNotificationEmails([`${'a'.repeat(250)}@x.org`]))).toBe(
      'CONNECTOR_INVALID_ARGUMENT',
    );
    const eleven = Array.from({ length: 11 }, (_, i) => `admin${i}@school.org`);
    expect(validateNotificationEmails(eleven.slice(0, 10))).toHaveLength(10);
    expect(code(() => validateNotificationEmails(eleven))).toBe('CONNECTOR_INVALID_ARGUMENT');
  });
});

describe('settings rules: the iSAMS address as pasted from the iSAMS FAQ', () => {
  it('takes the endpoint address pasted from the iSAMS FAQ as the address it is on (the format setting stays)', () => {
    for (const typed of [
      'https://warwickschool.isams.cloud/api/batch/1.0/xml.ashx',
      'https://warwickschool.isams.cloud/api/batch/1.0/json.ashx',
      'https://WarwickSchool.isams.cloud/API/Batch/1.0/JSON.ASHX/',
      'warwickschool.isams.cloud/api/batch/1.0/',
    ])
      expect(normaliseIsamsUrl(typed, false)).toBe('https://warwickschool.isams.cloud');
    expect(normaliseIsamsUrl('https://isams.school.org/isams/api/batch/1.0/xml.ashx', false)).toBe(
      'https://isams.school.org/isams',
    );
  });

  it('refuses the FAQ address with ?apiKey=… saying the key goes in the key field, never echoing the key', () => {
    const key = '0A1C996B-8E74-4388-A3C4-8DA1E40ADA57';
    const err = errorOf(() =>
      normaliseIsamsUrl(`https://warwickschool.isams.cloud/api/batch/1.0/xml.ashx?apiKey={${key}}`, false),
    );
    expect(err?.code).toBe('CONNECTOR_INVALID_ARGUMENT');
    expect(err?.message).toMatch(/only the address.*key field/i);
    expect(JSON.stringify(err)).not.toContain(key);
    expect(err?.message).not.toContain(key);
  });
});
