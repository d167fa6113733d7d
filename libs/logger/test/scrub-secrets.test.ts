import { describe, expect, it } from 'vitest';
import { isSensitiveField, REDACTED_PATHS, scrubSecrets } from '../src/index';

describe('scrubSecrets', () => {
  it.each([
    [
      'https://h/xml.ashx?apiKey={0A1C996B-8E74-4388-A3C4-8DA1E40ADA57}&a=1',
      'https://h/xml.ashx?apiKey=[REDACTED]&a=1',
    ],
    [
      'https://h/xml.ashx?apikey=%7B0A1C996B-8E74-4388-A3C4-8DA1E40ADA57%7D',
      'https://h/xml.ashx?apikey=[REDACTED]',
    ],
    ['https://h/xml.ashx?a=1&apiKey=plainsecret', 'https://h/xml.ashx?a=1&apiKey=[REDACTED]'],
    ['key {0a1c996b-8e74-4388-a3c4-8da1e40ada57} rejected', 'key [REDACTED] rejected'],
    ['key 0A1C996B-8E74-4388-A3C4-8DA1E40ADA57 rejected', 'key [REDACTED] rejected'],
    ['{"apiKey":"abc123","x":1}', '{"apiKey":"[REDACTED]","x":1}'],
    ['mongodb://admin:s3cret@db:27017/roster', 'mongodb://[REDACTED]@db:27017/roster'],
    ['password=hunter2 token: abc', 'password=[REDACTED] token: [REDACTED]'],
    [
      '550 5.1.1 <office.manager@school.example>: mailbox unavailable',
      '550 5.1.1 <[REDACTED]>: mailbox unavailable',
    ],
    ['to head+sync@st-mary.sch.uk, bursar@st-mary.sch.uk', 'to [REDACTED], [REDACTED]'],
    ['jwt:josé@school-a.example', 'jwt:[REDACTED]'],
    ['from zoë.smith@école.example.fr.', 'from [REDACTED].'],
    ['<Ωmega@school.example>', '<[REDACTED]>'],
  ])('%s', (input, expected) => {
    expect(scrubSecrets(input)).toBe(expected);
  });

  it('leaves ordinary text alone', () => {
    const text = 'Imported 120 pupils from dataset pupils in 3 pages (DB_PASSWORD unset)';
    expect(scrubSecrets(text)).toBe(text);
    // Package specs look like addresses but have a numeric "domain".
    expect(scrubSecrets('npx --package node@24.21.0')).toBe('npx --package node@24.21.0');
    expect(scrubSecrets('café@3.1.0 and é@ü')).toBe('café@3.1.0 and é@ü');
  });
});

describe('redaction lists', () => {
  it('lists secrets and personal fields at the top level and common nested secret locations, but not name', () => {
    for (const field of [
      'apiKey',
      'key',
      'password',
      'token',
      'authorization',
      'forename',
      'surname',
      'dateOfBirth',
      'email',
      'postcode',
      'pupil',
      'staff',
    ]) {
      expect(REDACTED_PATHS).toContain(field);
    }
    expect(REDACTED_PATHS).toContain('req.headers.authorization');
    expect(REDACTED_PATHS).toContain('settings.apiKey');
    expect(REDACTED_PATHS).not.toContain('name');
  });

  it('matches sensitive fields case- and separator-insensitively', () => {
    expect(isSensitiveField('Forename')).toBe(true);
    expect(isSensitiveField('EmailAddress')).toBe(true);
    expect(isSensitiveField('date_of_birth')).toBe(true);
    expect(isSensitiveField('API_KEY')).toBe(true);
    expect(isSensitiveField('name')).toBe(false);
    expect(isSensitiveField('tenantId')).toBe(false);
  });
});
