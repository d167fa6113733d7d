import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deterministicEventId } from '../src/event-id';

/** The id as RFC 9562 spells it out: SHA-256 of namespace ‖ parts, 16 bytes, version and variant bits set. */
function referenceId(...parts: string[]): string {
  const bytes = createHash('sha256')
    .update(Buffer.from('6f1d3c9e2b474f0a9a528d3e7c1b5a24', 'hex'))
    .update(JSON.stringify(parts), 'utf8')
    .digest()
    .subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

describe('deterministicEventId', () => {
  it('gives the same id for the same parts', () => {
    expect(deterministicEventId('t', 'school-1', 'run-1')).toBe(
      deterministicEventId('t', 'school-1', 'run-1'),
    );
  });

  it('is a UUIDv8 (version 8, RFC variant)', () => {
    expect(deterministicEventId('a')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('does not confuse parts that join to the same string', () => {
    expect(deterministicEventId('a:b', 'c')).not.toBe(deterministicEventId('a', 'b:c'));
    expect(deterministicEventId('ab', 'c')).not.toBe(deterministicEventId('a', 'bc'));
    expect(deterministicEventId('a', '')).not.toBe(deterministicEventId('a'));
  });

  it('is a pinned value, so a change of algorithm is noticed', () => {
    expect(
      deterministicEventId('com.schoolcloud.isams-sync.platform.ping.v1', 'tenant-1', '42'),
    ).toMatchInlineSnapshot(`"d3c407b2-7c29-82aa-b01f-9b4cd0a06049"`);
  });

  it('equals the byte-wise construction for every variant digit, multi-byte text included', () => {
    const variants = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const parts = [
        'com.schoolcloud.isams-sync.roster.pupil.added.v1',
        `tenant-${i % 7}`,
        `Zoë ${i}`,
        '東京',
        String(i),
      ];
      const id = deterministicEventId(...parts);
      expect(id).toBe(referenceId(...parts));
      variants.add(id[19]!);
    }
    expect([...variants].sort()).toEqual(['8', '9', 'a', 'b']);
  });

  it('rejects no parts', () => {
    expect(() => deterministicEventId()).toThrow(TypeError);
  });
});
