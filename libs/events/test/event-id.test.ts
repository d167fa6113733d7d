import { describe, expect, it } from 'vitest';
import { deterministicEventId } from '../src/event-id';

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

  it('rejects no parts', () => {
    expect(() => deterministicEventId()).toThrow(TypeError);
  });
});
