import { describe, expect, it } from 'vitest';
import { loggableUrl } from '../../src/handlers/http/request-log';

describe('loggableUrl', () => {
  it('keeps the path and the parameter names, never a value', () => {
    expect(loggableUrl('/api/v1/me')).toBe('/api/v1/me');
    expect(loggableUrl('/r?q=Amelia%20Hartley&pageSize=20&flag')).toBe(
      '/r?q=[REDACTED]&pageSize=[REDACTED]&flag=[REDACTED]',
    );
    expect(loggableUrl('/r?&&q=x&')).toBe('/r?q=[REDACTED]');
  });

  it('redacts names that are not plain identifiers and drops the fragment', () => {
    expect(loggableUrl('/r?jane%40example.co.uk&Amelia Hartley=1#Oliver')).toBe(
      '/r?[REDACTED]=[REDACTED]&[REDACTED]=[REDACTED]',
    );
    expect(loggableUrl('/r#q=Oliver')).toBe('/r');
  });

  it('bounds the path and the whole', () => {
    expect(loggableUrl(`/${'a'.repeat(5_000)}`)).toHaveLength(513);
    const many = loggableUrl(`/r?${Array.from({ length: 1_000 }, (_, i) => `p${i}=1`).join('&')}`);
    expect(many.length).toBeLessThanOrEqual(1_026);
    expect(many.endsWith('&…')).toBe(true);
  });
});
