import { describe, expect, it } from 'vitest';
import { addressChange, assertStoredKeyUsableFor, isamsOrigin } from '../../src/domain/key-binding';
import { normaliseIsamsUrl } from '../../src/domain/settings-rules';

const origin = (typed: string) => isamsOrigin(normaliseIsamsUrl(typed, true));

describe('the host a key is bound to (origin of the normalised address)', () => {
  it('is scheme, lowercased host and port; the path and the default port do not count', () => {
    expect(origin('School.ISAMS.cloud')).toBe('https://school.isams.cloud');
    expect(origin('https://school.isams.cloud:443/isams/')).toBe('https://school.isams.cloud');
    expect(origin('https://school.isams.cloud:8443')).toBe('https://school.isams.cloud:8443');
    expect(origin('http://127.0.0.1:4010')).toBe('http://127.0.0.1:4010');
    expect(origin('https://bücher.example.com')).toBe('https://xn--bcher-kva.example.com');
  });

  it('tells a new host from a path change on the same host', () => {
    const a = normaliseIsamsUrl('https://school.isams.cloud', false);
    expect(addressChange(undefined, a)).toBe('first');
    expect(addressChange(a, a)).toBe('unchanged');
    expect(addressChange(a, normaliseIsamsUrl('https://SCHOOL.isams.cloud/api', false))).toBe('same-host');
    for (const other of [
      'https://school.isams.cloud.attacker.example',
      'https://school.isams.cloud:8443',
      'https://other.isams.cloud',
      'https://169.254.169.254',
    ]) {
      expect(addressChange(a, normaliseIsamsUrl(other, false))).toBe('new-host');
      expect(() => assertStoredKeyUsableFor(a, normaliseIsamsUrl(other, false))).toThrow(
        expect.objectContaining({
          code: 'CONNECTOR_KEY_REQUIRED_FOR_NEW_ADDRESS',
          kind: 'invalid_argument',
          message: expect.stringContaining('Changing the iSAMS address requires entering the API key again'),
        }),
      );
    }
    expect(() => assertStoredKeyUsableFor(a, `${a}/other/path`)).not.toThrow();
  });
});
